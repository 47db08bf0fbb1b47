//! HTTP integration: what o11y mounts in, and wraps around, an
//! application's HTTP server (feature `axum`).
//!
//! - `layer()`: the server layer, a plain `tower` `Layer` that gives every
//!   request a SERVER span continuing the caller's W3C trace, a request id
//!   in every log line, RED metrics and one access-log line; its
//!   documentation says what it records and how to mount it.
//! - `set_user(id)`: called from authentication code, puts the user's id on
//!   the request's span and log lines.
//! - `routes()`: the metrics endpoint, to merge into an axum router.
//!
//! A process without an HTTP server of its own serves its metrics with
//! [`metrics::serve`](crate::metrics::serve) instead.
//!
//! Inside, one module per concern: `layer` (the tower `Layer`, `Service`
//! and response future, and the per-request guard that records the
//! outcome), `span` (the request span: sampling decision, semantic-convention
//! attributes, log context, `set_user`), `propagation` (W3C `traceparent`,
//! `tracestate`, `baggage`), `request_id` (`X-Request-ID`), `route` (method
//! and route labels, and the per-route cache of metric handles), `metrics`
//! (the RED metrics), `settings` (what `init()` configured for the layer)
//! and `endpoint` (the metrics route).

#[cfg(feature = "axum")]
mod endpoint;
#[cfg(feature = "axum")]
mod layer;
#[cfg(feature = "axum")]
mod metrics;
#[cfg(feature = "axum")]
mod propagation;
#[cfg(feature = "axum")]
mod request_id;
#[cfg(feature = "axum")]
mod route;
#[cfg(feature = "axum")]
mod settings;
#[cfg(feature = "axum")]
mod span;

#[cfg(feature = "axum")]
pub use self::endpoint::routes;
#[cfg(feature = "axum")]
pub use self::layer::{HttpLayer, HttpService, ResponseFuture, layer};
#[cfg(feature = "axum")]
pub use self::request_id::{MAX_REQUEST_ID_LEN, REQUEST_ID_HEADER};
#[cfg(feature = "axum")]
pub use self::route::{OTHER_METHOD, UNMATCHED_ROUTE};
#[cfg(feature = "axum")]
pub(crate) use self::settings::configure;
#[cfg(feature = "axum")]
pub use self::span::set_user;

/// The paths the server layer leaves alone unless `http.exclude_paths`
/// says otherwise: scrapes, probes and the browser's icon request.
pub const DEFAULT_EXCLUDE_PATHS: &[&str] =
    &["/metrics", "/health", "/healthz", "/ready", "/favicon.ico"];
