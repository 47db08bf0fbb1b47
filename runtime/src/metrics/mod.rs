//! Metrics: the metric types, the link-time registry, exposition
//! (Prometheus text and OpenMetrics with exemplars), the cardinality guard
//! and the runtime's own metrics.
//!
//! Every metric is a `static` with a fixed set of label names. A labelled
//! metric hands out handles (`labels(..)`) that callers keep, so recording
//! is one atomic operation (recording on the labelled metric itself is a
//! compile error that says to call `labels(..)` first). Registration happens at link time
//! ([`register_metric!`](crate::register_metric)), so exposition knows every
//! metric of the binary, with its help text and zero value, before its first
//! use.
//!
//! # Exemplars
//!
//! A counter's `inc` / `inc_by` and a histogram's `observe` (and its
//! timer) called inside a sampled span link that span's trace and span ids
//! to the series (for a histogram, to the bucket) as its exemplar:
//! OpenMetrics scrapes show it after the value (`# {trace_id="…",span_id="…"} 1`),
//! Prometheus keeps it with exemplar storage on, and the OTLP push carries
//! it. Not every call: one recording in 64 of each series or bucket (per
//! thread), the first included, so rare buckets always get one and busy
//! ones stay fresh. Outside a sampled span a call pays for it a branch on
//! the count its own atomic add returned, and once in 64 calls one relaxed
//! load (and, with tracing on, a look-up of the current span).
//!
//! - Opt out per metric with [`MetricDesc::exemplars`]`(false)`
//!   (`#[metric(counter, exemplars = false, ..)]`), as Prometheus' Java
//!   client's `withoutExemplars()`: its plain calls then never look for a
//!   span.
//! - `inc_by_with_exemplar` / `observe_with_exemplar` link the sampled span
//!   on every call rather than one in 64: for rare events whose latest
//!   occurrence is the one to link (a clock read and a lock per call
//!   inside a sampled span; measured in `benches/README.md`).
//! - `inc_with_span` / `observe_with_span` link a span given by its ids,
//!   one recording in 64.

mod cell;
mod desc;
mod exemplar;
mod exposition;
mod family;
mod label;
#[doc(hidden)]
pub mod labels_first;
pub(crate) mod own;
mod registry;
pub(crate) mod server;
pub(crate) mod setup;
mod types;

// The naming rules, shared with #[metric] so both reject the same names.
use o11y_naming as naming;

pub use cell::HistogramSnapshot;
pub use desc::{DEFAULT_SECONDS_BUCKETS, MetricDesc, MetricKind};
pub use exemplar::Exemplar;
pub(crate) use exemplar::set_exemplar_source;
pub use exposition::{Format, render, render_into};
pub use family::{DEFAULT_SERIES_CAP, OVERFLOW_LABEL_VALUE, set_global_series_cap};
pub use label::LabelValue;
pub(crate) use registry::register_own_metric;
pub use registry::{CatalogEntry, METRICS, Registration, RegistryError, catalog, check};
pub use server::{DEFAULT_ENDPOINT, DEFAULT_LISTEN, scrape_response};
pub use types::{
    Counter, CounterHandle, CounterVec, Gauge, GaugeHandle, GaugeVec, Histogram, HistogramHandle,
    HistogramTimer, HistogramVec, Metric, SeriesValue,
};

#[doc(hidden)]
pub use linkme as __linkme;
