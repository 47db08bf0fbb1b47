//! The metrics endpoint as an axum route: `GET <metrics.endpoint>` answered
//! like the standalone server does (content negotiation, access rules,
//! refusals counted).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request};
use axum::response::Response;

use crate::metrics::{scrape_response, server};

/// A router serving the metrics at `metrics.endpoint` (`/metrics` unless
/// configured otherwise), to merge into the application's router. Call it
/// after `init()`: the path is read from the active configuration when the
/// router is built (the access rules at each request).
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use std::net::SocketAddr;
/// let _o11y = o11y_runtime::init()?;
/// let app = axum::Router::new()
///     .route("/", axum::routing::get(|| async { "hello" }))
///     .merge(o11y_runtime::http::routes());
/// let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
/// // `with_connect_info` lets `metrics.allow_from` see the client's address.
/// axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await?;
/// # Ok(())
/// # }
/// ```
///
/// `GET` (and `HEAD`) get the metrics in OpenMetrics when the `Accept`
/// header lists `application/openmetrics-text` (Prometheus does), in
/// Prometheus text 0.0.4 otherwise; other methods get axum's 405.
///
/// With `metrics.allow_from` set, the client's address must be known: serve
/// the app with `into_make_service_with_connect_info::<SocketAddr>()`, or
/// every scrape is refused with 403 (fail closed). Behind a reverse proxy
/// that address is the proxy's; `X-Forwarded-For` is not trusted. With
/// `metrics.bearer_token` set, a scrape without `Authorization: Bearer
/// <token>` gets 401.
pub fn routes<S>() -> axum::Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let endpoint = server::active().endpoint.clone();
    axum::Router::new().route(&endpoint, axum::routing::get(scrape))
}

async fn scrape(request: Request) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    scrape_response(peer, request.headers()).map(axum::body::Body::from)
}
