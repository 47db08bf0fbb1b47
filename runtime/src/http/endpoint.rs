//! The metrics endpoint as an axum route: `GET <metrics.endpoint>` answered
//! like the standalone server does (content negotiation, access rules,
//! refusals counted); and, with `dev_console.enabled`, the dev console
//! under `/o11y/`, answered by the same handler as the standalone server's.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request};
use axum::response::Response;

use crate::dev_console;
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
/// With `dev_console.enabled` (the `dev` profile's default), it also
/// serves the dev console at `/o11y/` (see `o11y::dev_console`) to the
/// clients of `dev_console.allow_from` (loopback by default), which needs
/// the client's address too.
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
    let router = axum::Router::new().route(&endpoint, axum::routing::get(scrape));
    if !dev_console::enabled() {
        return router;
    }
    let prefix = dev_console::PREFIX;
    router
        .route(prefix, axum::routing::any(console))
        // `/{*rest}` does not match an empty rest.
        .route(&format!("{prefix}/"), axum::routing::any(console))
        .route(&format!("{prefix}/{{*rest}}"), axum::routing::any(console))
}

fn peer_of(request: &Request) -> Option<std::net::IpAddr> {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
}

async fn scrape(request: Request) -> Response {
    scrape_response(peer_of(&request), request.headers()).map(axum::body::Body::from)
}

/// The dev console: the body read up to `dev_console.max_body_bytes`, then
/// the framework-agnostic handler.
async fn console(request: Request) -> Response {
    let peer = peer_of(&request);
    let limit = dev_console::max_body_bytes();
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, limit).await else {
        return dev_console::too_large(limit).map(axum::body::Body::from);
    };
    dev_console::handle(http::Request::from_parts(parts, body), peer).map(axum::body::Body::from)
}
