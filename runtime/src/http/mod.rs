//! HTTP integration: what o11y mounts in, and wraps around, an
//! application's HTTP server (feature `axum`), and the client it calls
//! other services with (feature `reqwest`).
//!
//! - `layer()`: the server layer, a plain `tower` `Layer` that gives every
//!   request a SERVER span continuing the caller's W3C trace, a request id
//!   in every log line, RED metrics and one access-log line; its
//!   documentation says what it records and how to mount it.
//! - `set_user(id)`: called from authentication code, puts the user's id on
//!   the request's span and log lines.
//! - `routes()`: the metrics endpoint, to merge into an axum router.
//! - `client(reqwest::Client)` and `ClientMiddleware`: outbound calls
//!   through reqwest get a CLIENT span, send the trace on (W3C
//!   `traceparent`/`tracestate`) and record
//!   `http_client_request_duration_seconds`.
//!
//! A process without an HTTP server of its own serves its metrics with
//! [`metrics::serve`](crate::metrics_server::serve) instead.
//!
//! Inside, one module per concern: `layer` (the tower `Layer`, `Service`
//! and response future, and the per-request guard that records the
//! outcome), `outcome` (how a request ended, and what each ending
//! records), `span` (the request span: sampling decision, semantic-convention
//! attributes, log context, `set_user`), `incoming` (which of the headers
//! below a request carries, in one pass), `propagation` (incoming W3C
//! `traceparent`, `tracestate`, `baggage`), `request_id` (`X-Request-ID`),
//! `route` (route labels, and the per-route cache of metric handles),
//! `metrics` (the server's RED metrics), `settings` (what `init()`
//! configured for the layer) and `endpoint` (the metrics route); `client`
//! (the outbound middleware: span, propagation, duration histogram) and
//! `redact` (`url.full` without secrets); shared by both sides, `method`
//! (the bounded method label).

#[cfg(any(feature = "axum", feature = "reqwest"))]
mod method;

#[cfg(feature = "reqwest")]
mod client;
#[cfg(feature = "reqwest")]
mod redact;

#[cfg(any(feature = "axum", feature = "reqwest"))]
pub use self::method::OTHER_METHOD;

#[cfg(feature = "reqwest")]
pub use self::client::{ClientMiddleware, client};
/// The [reqwest-middleware](https://docs.rs/reqwest-middleware) crate that
/// [`ClientMiddleware`] is built for, re-exported so that a client can be
/// assembled without depending on a matching version
/// (`o11y::http::reqwest_middleware::ClientBuilder`).
#[cfg(feature = "reqwest")]
pub use reqwest_middleware;

#[cfg(feature = "axum")]
mod endpoint;
#[cfg(feature = "axum")]
mod incoming;
#[cfg(feature = "axum")]
mod layer;
#[cfg(feature = "axum")]
mod metrics;
#[cfg(feature = "axum")]
mod outcome;
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

#[cfg(all(test, feature = "axum"))]
mod hostile_tests;

#[cfg(feature = "axum")]
pub use self::endpoint::routes;
#[cfg(feature = "axum")]
pub use self::layer::{HttpLayer, HttpService, ResponseFuture, layer};
#[cfg(feature = "axum")]
pub use self::route::UNMATCHED_ROUTE;
#[cfg(feature = "axum")]
pub use self::span::set_user;

pub use crate::config::DEFAULT_EXCLUDE_PATHS;

/// The header the request id is read from and echoed in (the server
/// layer), and forwarded on outbound calls (the client).
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The longest request id accepted from a caller.
pub const MAX_REQUEST_ID_LEN: usize = 128;
