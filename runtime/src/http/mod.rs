//! HTTP integration: what o11y mounts in, and wraps around, an
//! application's HTTP server. Today that is `routes()` (feature `axum`),
//! the metrics endpoint for an axum app; the tower layer (request spans,
//! RED metrics, request ids) and outbound client propagation come in a
//! later issue.
//!
//! A process without an HTTP server of its own serves its metrics with
//! [`metrics::serve`](crate::metrics::serve) instead.

#[cfg(feature = "axum")]
mod axum;

#[cfg(feature = "axum")]
pub use self::axum::routes;
