//! The quickstart service of o11y, as a library so that its tests drive the
//! same router the example serves (`cargo run --example quickstart`).
//!
//! An axum service over an in-memory SQLite database: `api` (routes,
//! observed handlers, JSON errors), `orders` (the domain and the validation
//! of a new order), `store` (migrations, seed data and queries, one of them
//! a deliberate N+1), `queue` (where placed orders go: an in-process channel,
//! or a Redis list with `REDIS_URL`), `worker` (the `process_order` task and
//! the Redis worker loop of `cargo run --example worker`), `demo`
//! (`--demo-traffic`: a tour of requests to itself), [`traces_banner`]
//! (the banner line both examples print about traces, with the dev
//! console's URL) and [`console_receiver_banner`].

pub mod api;
pub mod demo;
pub mod orders;
pub mod queue;
pub mod store;
pub mod worker;

pub use api::{AppState, router};

/// The banner line about traces: where they are exported, where the dev
/// console shows them (`console`, its URL, when it is on), or how to see
/// them.
pub fn traces_banner(endpoint: Option<&str>, console: Option<&str>) -> String {
    match (endpoint, console) {
        (Some(endpoint), Some(console)) => {
            format!("traces: exported over OTLP to {endpoint}, and in the dev console: {console}")
        }
        (Some(endpoint), None) => format!("traces: exported over OTLP to {endpoint}"),
        (None, Some(console)) => format!(
            "traces: in the dev console, {console} (requests, waterfalls, logs, N+1, metrics; \
             no collector needed)"
        ),
        (None, None) => "traces: kept for log correlation only; to see them, run in the dev \
                         profile (the dev console at /o11y/), or export them with \
                         OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4317"
            .to_owned(),
    }
}

/// The banner line that tells another process (the worker) how to send its
/// telemetry to this one's dev console at `console` (`http://…/o11y/`).
pub fn console_receiver_banner(console: &str) -> String {
    let endpoint = console.trim_end_matches('/');
    format!(
        "other processes into this console: OTEL_EXPORTER_OTLP_ENDPOINT={endpoint} \
         OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf O11Y_LOGGING_OTLP_ENABLED=true"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_banner_says_where_traces_are_seen() {
        let console = Some("http://127.0.0.1:3000/o11y/");
        assert!(traces_banner(None, console).contains("http://127.0.0.1:3000/o11y/"));
        assert!(traces_banner(Some("http://c:4317"), console).contains("http://c:4317"));
        assert!(traces_banner(None, None).contains("OTEL_EXPORTER_OTLP_ENDPOINT"));
        assert!(
            console_receiver_banner("http://127.0.0.1:3000/o11y/")
                .contains("OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:3000/o11y ")
        );
    }
}
