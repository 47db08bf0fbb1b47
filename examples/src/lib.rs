//! The quickstart service of o11y, as a library so that its tests drive the
//! same router the example serves (`cargo run --example quickstart`).
//!
//! An axum service over an in-memory SQLite database: `api` (routes,
//! observed handlers, JSON errors), `orders` (the domain and the validation
//! of a new order), `store` (migrations, seed data and queries, one of them
//! a deliberate N+1), `queue` (where placed orders go: an in-process channel,
//! or a Redis list with `REDIS_URL`), `worker` (the `process_order` task and
//! the Redis worker loop of `cargo run --example worker`), `demo`
//! (`--demo-traffic`: a tour of requests to itself) and [`traces_banner`]
//! (the banner line both examples print about traces).

pub mod api;
pub mod demo;
pub mod orders;
pub mod queue;
pub mod store;
pub mod worker;

pub use api::{AppState, router};

/// The banner line about traces: where they are exported, or how to
/// export them.
pub fn traces_banner(endpoint: Option<&str>) -> String {
    match endpoint {
        Some(endpoint) => format!("traces: exported over OTLP to {endpoint}"),
        None => "traces: kept for log correlation only; to export them, run with \
                 OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4317"
            .to_owned(),
    }
}
