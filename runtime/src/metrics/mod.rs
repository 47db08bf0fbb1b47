//! Metrics: the metric types, the link-time registry, exposition
//! (Prometheus text and OpenMetrics with exemplars), the cardinality guard
//! and the runtime's own metrics.
//!
//! Every metric is a `static` with a fixed set of label names. A labelled
//! metric hands out handles (`labels(..)`) that callers keep, so recording
//! is one atomic operation. Registration happens at link time
//! ([`register_metric!`](crate::register_metric)), so exposition knows every
//! metric of the binary, with its help text and zero value, before its first
//! use.

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
pub use registry::{CatalogEntry, METRICS, Registration, RegistryError, catalog, check};
pub use server::{DEFAULT_ENDPOINT, DEFAULT_LISTEN, scrape_response};
pub use types::{
    Counter, CounterHandle, CounterVec, Gauge, GaugeHandle, GaugeVec, Histogram, HistogramHandle,
    HistogramTimer, HistogramVec, Metric, SeriesValue,
};

#[doc(hidden)]
pub use linkme as __linkme;
