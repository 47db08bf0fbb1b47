//! # o11y
//!
//! Traces, metrics and logs that agree with each other, from a few
//! attributes and one [`init()`] call.
//!
//! ```no_run
//! fn main() -> Result<(), o11y::Error> {
//!     // Profile defaults < o11y.toml < O11Y_* / OTEL_* environment < code.
//!     let _o11y = o11y::init()?; // exports what is queued when dropped
//!
//!     let span = tracing::info_span!("checkout", order_id = 7);
//!     let _entered = span.enter();
//!     o11y::tag("customer.tier", "gold"); // span attribute + field of every log line below
//!     tracing::info!("order placed");     // carries trace_id, span_id, order_id, customer.tier
//!     Ok(())
//! }
//! ```
//!
//! Spans from any `tracing` instrumentation (a user's
//! `#[tracing::instrument]`, tower-http, sqlx) and o11y's own form one trace,
//! exported over OTLP (gRPC or HTTP/protobuf) when an endpoint is
//! configured. Log lines (console or JSON) carry the ids of the span they
//! were written in. Every configuration key is listed in [`config`], each
//! profile's defaults on [`config::Profile`].
//!
//! To compose o11y into a subscriber of your own instead of installing a
//! global one, use [`layer()`].
//!
//! ## Instrumenting functions
//!
//! ```
//! #[derive(Debug)]
//! struct OutOfStock;
//! impl std::fmt::Display for OutOfStock {
//!     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
//!         f.write_str("out of stock")
//!     }
//! }
//!
//! // A span, calls by result, a duration histogram; `err` logs the error.
//! #[o11y::observe(fields(sku = %sku), err)]
//! fn reserve(sku: &str, quantity: u32) -> Result<u32, OutOfStock> {
//!     if quantity > 10 { return Err(OutOfStock); }
//!     Ok(quantity)
//! }
//!
//! struct Cart;
//!
//! #[o11y::observe] // every method: spans named `Cart::add`, `Cart::total`
//! impl Cart {
//!     fn add(&mut self, _sku: &str) {}
//!     #[observe(skip)]
//!     fn total(&self) -> u32 { 0 }
//! }
//!
//! assert!(reserve("A-1", 2).is_ok()); // o11y not initialised: costs one atomic load
//! ```
//!
//! ## Declaring metrics
//!
//! ```
//! #[derive(o11y::LabelValue)]
//! enum Method { Card, BankTransfer }
//!
//! #[o11y::metric(counter, help = "Payments processed", labels(status, method))]
//! static PAYMENTS: o11y::Counter;
//!
//! #[o11y::metric(histogram, unit = "seconds", buckets = [0.01, 0.1, 1.0], help = "Checkout time")]
//! static CHECKOUT_SECONDS: o11y::Histogram;
//!
//! let approved = PAYMENTS.labels("success", Method::Card); // keep it: one atomic op per inc
//! approved.inc(); // inside a sampled span, it would also link that trace as exemplar
//! CHECKOUT_SECONDS.observe(0.042);
//! # // With the `off` feature a #[metric] is not registered, so not rendered.
//! # #[cfg(not(feature = "off"))]
//! assert!(o11y::metrics::render(o11y::metrics::Format::Prometheus)
//!     .contains(r#"payments_total{status="success",method="card"} 1"#));
//! ```

//! ## Background tasks
//!
//! ```
//! use o11y::task::Envelope;
//!
//! #[derive(serde::Serialize, serde::Deserialize)]
//! struct OrderJob { order_id: u64 }
//!
//! #[derive(Debug)]
//! struct Busy;
//!
//! // Worker: a CONSUMER span `process process_order`, child of the producer's
//! // span; task_started / task_succeeded | task_failed | task_retried events;
//! // task_runs_total{task,outcome} and the duration, queue-wait and
//! // in-progress metrics.
//! #[o11y::task_traced(fields(order_id = job.payload.order_id))]
//! fn process_order(job: Envelope<OrderJob>) -> Result<u64, Busy> {
//!     if job.payload.order_id == 0 {
//!         o11y::task::retry("nothing to do yet"); // counted as `retried`
//!         return Err(Busy);
//!     }
//!     Ok(job.payload.order_id)
//! }
//!
//! // Producer (inside a request's span, the envelope carries its trace):
//! let json = serde_json::to_string(&Envelope::new("process_order", OrderJob { order_id: 7 })).unwrap();
//! // ... through any queue ...
//! let job: Envelope<OrderJob> = serde_json::from_str(&json).unwrap();
//! assert_eq!(process_order(job).unwrap(), 7);
//! o11y::task::shutdown(); // a worker's bounded flush before it exits
//! ```

pub use o11y_runtime::{
    Config, ConfigError, Error, ExportStats, FieldValue, Guard, Setup, flush, init, init_with,
    layer, log_context, span_attribute, tag,
};
pub use o11y_runtime::{command, config, db, dev_console, export, register_metric, task};

/// Metrics: the types `#[metric]` declares, the link-time catalog, the
/// exposition, and the standalone `/metrics` server for processes without
/// an HTTP server of their own ([`serve`](metrics::serve)).
///
/// A counter's `inc` / `inc_by` and a histogram's `observe` inside a
/// sampled span link that span as exemplar (one recording in 64 of each
/// series or bucket); `#[metric(.., exemplars = false)]` turns that off for
/// one metric. See [`MetricDesc::exemplars`](metrics::MetricDesc::exemplars).
pub mod metrics {
    pub use o11y_runtime::metrics::*;
    pub use o11y_runtime::metrics_server::{MetricsServer, serve, serve_configured};
}

/// Spans: the ids of the current span for correlation, and marking a span
/// failed. o11y's span pipeline itself is configured through
/// [`Config`] and needs no calls.
pub mod trace {
    pub use o11y_runtime::context::{current_span_ids, set_error};
    pub use o11y_runtime::trace::*;
}

/// HTTP integration. Feature `axum`: `http::layer()`, the tower layer
/// that gives each request a server span, a request id, RED metrics and an
/// access-log line; `http::set_user()`; and `http::routes()`, the metrics
/// endpoint to merge into an axum app. Feature `reqwest`:
/// `http::client(reqwest::Client)` and `http::ClientMiddleware`, which give
/// each outbound call a client span, send the trace on in W3C
/// `traceparent`/`tracestate` headers and record
/// `http_client_request_duration_seconds`.
pub use o11y_runtime::http;

/// Re-exported so that `o11y::tracing::info!` works without another dependency line.
pub use tracing;

/// The Sentry SDK o11y sends errors and panics with (feature `sentry`, when
/// `sentry.dsn` or `SENTRY_DSN` is set): `init()` binds its client to the
/// SDK's main hub, so `o11y::sentry::capture_message(..)` and the other
/// `sentry::*` calls go to the same project, through the same redaction.
/// Do not call `sentry::init` as well: o11y's panic hook already reports
/// every panic once.
#[cfg(feature = "sentry")]
pub use sentry;

pub use o11y_macros::{LabelValue, metric, observe, task_traced};
pub use o11y_runtime::metrics::{Counter, Gauge, Histogram, LabelValue};

/// What the attribute macros' generated code calls. Not a public API: it
/// changes without notice.
#[doc(hidden)]
pub mod __private {
    pub use o11y_runtime::__list_site as list_site;
    pub use o11y_runtime::observe::{
        CallGuard, Check, FN_SITES, FnSite, HasError, IsResult, NoError, NoSources, NotResult,
        ObservedResult, SiteOptions, Sources, SourcesOfError, SourcesOfLocalError,
        SourcesOfSharedError, call_once, flags,
    };
    pub use o11y_runtime::slo::{LatencyObjective, Objective};
    pub use o11y_runtime::task::{
        ErrorMessage, HasMessage, NoMessage, TaskRun, TaskSite, task_error,
    };
    pub use tracing;
}
