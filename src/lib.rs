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
//! were written in. See the README for every configuration key and profile.
//!
//! To compose o11y into a subscriber of your own instead of installing a
//! global one, use [`layer()`].

pub use o11y_runtime::{
    Config, ConfigError, Error, ExportStats, FieldValue, Guard, Setup, flush, init, init_with,
    layer, log_context, span_attribute, tag,
};
pub use o11y_runtime::{config, export, trace};

/// Re-exported so that `o11y::tracing::info!` works without another dependency line.
pub use tracing;
