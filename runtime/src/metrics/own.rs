//! The runtime's own metrics: what the export pipeline did, the cardinality
//! guard, refused scrapes, and `o11y_build_info`. None links an exemplar:
//! they count o11y's work, not the application's, and the span current
//! when one is counted (a span whose export was dropped, say) is not what
//! the count is about.

use super::desc::MetricDesc;
use std::sync::OnceLock;

use super::types::{Counter, CounterHandle, CounterVec, GaugeVec};
use crate::metrics::register_own_metric;

/// Spans handed to an exporter that reported success.
pub static SPANS_EXPORTED: Counter = Counter::new(
    MetricDesc::counter("o11y_spans_exported_total", "Spans exported successfully")
        .exemplars(false),
);
/// Spans dropped, by [`SpanDrop`] reason; counted through [`span_dropped`].
pub static SPANS_DROPPED: CounterVec<1> = CounterVec::new(
    MetricDesc::counter(
        "o11y_spans_dropped_total",
        "Spans dropped: the export queue was full, their export failed, or tail sampling \
         held too many spans of one trace or too many bytes",
    )
    .labels(&["reason"])
    .exemplars(false),
);

/// Why a span was dropped: the `reason` label of `o11y_spans_dropped_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanDrop {
    /// The export queue was full.
    QueueFull = 0,
    /// Its export call failed or timed out.
    ExportFailed = 1,
    /// Tail sampling held `tracing.tail_max_spans_per_trace` spans of its
    /// trace already.
    TailTraceCap = 2,
    /// Tail sampling held `tracing.tail_max_bytes` of spans already.
    TailBytesCap = 3,
}

impl SpanDrop {
    /// Every reason, in the order of their discriminants.
    pub const ALL: [SpanDrop; 4] = [
        SpanDrop::QueueFull,
        SpanDrop::ExportFailed,
        SpanDrop::TailTraceCap,
        SpanDrop::TailBytesCap,
    ];

    /// The `reason` label.
    pub fn label(self) -> &'static str {
        match self {
            SpanDrop::QueueFull => "queue_full",
            SpanDrop::ExportFailed => "export_failed",
            SpanDrop::TailTraceCap => "tail_trace_cap",
            SpanDrop::TailBytesCap => "tail_bytes_cap",
        }
    }
}

/// The series of each reason, created together so that every reason is
/// exposed (at 0) from the first scrape, and looked up once.
fn span_drop_series() -> &'static [CounterHandle; 4] {
    static SERIES: OnceLock<[CounterHandle; 4]> = OnceLock::new();
    SERIES.get_or_init(|| SpanDrop::ALL.map(|reason| SPANS_DROPPED.labels([reason.label()])))
}

/// Creates the series of every reason of `o11y_spans_dropped_total`, so
/// that each is exposed at 0 before the first drop (from `init()`, and
/// before any scrape, which may come before `init()`).
pub fn create_span_drop_series() {
    span_drop_series();
}

/// Counts `count` spans dropped for `reason`.
pub fn span_dropped(reason: SpanDrop, count: u64) {
    span_drop_series()[reason as usize].inc_by(count);
}

/// Spans dropped for `reason` since the process started.
pub fn spans_dropped(reason: SpanDrop) -> u64 {
    span_drop_series()[reason as usize].get()
}
/// Span export calls that failed or timed out.
pub static SPAN_EXPORT_ERRORS: Counter = Counter::new(
    MetricDesc::counter(
        "o11y_span_export_errors_total",
        "Span export calls that failed",
    )
    .exemplars(false),
);
/// Log records handed to an exporter that reported success.
pub static LOGS_EXPORTED: Counter = Counter::new(
    MetricDesc::counter(
        "o11y_logs_exported_total",
        "Log records exported successfully",
    )
    .exemplars(false),
);
/// Log records dropped: queue full, or their export failed.
pub static LOGS_DROPPED: Counter = Counter::new(
    MetricDesc::counter(
        "o11y_logs_dropped_total",
        "Log records dropped because the export queue was full or their export failed",
    )
    .exemplars(false),
);
/// Log lines the dev console's store did not get: its queue was full.
pub static DEV_CONSOLE_LINES_DROPPED: Counter = Counter::new(
    MetricDesc::counter(
        "o11y_dev_console_lines_dropped_total",
        "Log lines the dev console did not receive because its queue was full",
    )
    .exemplars(false),
);
/// Log export calls that failed or timed out.
pub static LOG_EXPORT_ERRORS: Counter = Counter::new(
    MetricDesc::counter(
        "o11y_log_export_errors_total",
        "Log record export calls that failed",
    )
    .exemplars(false),
);
/// OTLP metric pushes that failed or timed out (`metrics.otlp_enabled`).
pub static METRIC_EXPORT_ERRORS: Counter = Counter::new(
    MetricDesc::counter(
        "o11y_metric_export_errors_total",
        "OTLP metric pushes that failed or timed out",
    )
    .exemplars(false),
);
/// Label sets that went to a metric's overflow series.
pub static SERIES_OVERFLOW: CounterVec<1> = CounterVec::new(
    MetricDesc::counter(
        "o11y_metric_series_overflow_total",
        "Recordings sent to a metric's overflow series because it reached its series cap \
         (one per lookup of a label set it does not keep)",
    )
    .labels(&["metric"])
    .exemplars(false)
    // One series per metric name, so bounded; under a cap, its own overflow would recurse.
    .series_cap(usize::MAX),
);
/// Scrapes of the metrics endpoint that were refused, by reason.
pub static SCRAPES_REFUSED: CounterVec<1> = CounterVec::new(
    MetricDesc::counter(
        "o11y_metrics_scrapes_refused_total",
        "Metrics scrapes refused by the access rules",
    )
    .labels(&["reason"])
    .exemplars(false),
);
/// Always 1; its labels say what is running.
pub static BUILD_INFO: GaugeVec<3> = GaugeVec::new(
    MetricDesc::gauge(
        "o11y_build_info",
        "The running service and o11y version (value always 1)",
    )
    .labels(&["service_name", "service_version", "o11y_version"]),
);

register_own_metric!(SPANS_EXPORTED);
register_own_metric!(SPANS_DROPPED);
register_own_metric!(SPAN_EXPORT_ERRORS);
register_own_metric!(LOGS_EXPORTED);
register_own_metric!(LOGS_DROPPED);
register_own_metric!(DEV_CONSOLE_LINES_DROPPED);
register_own_metric!(LOG_EXPORT_ERRORS);
register_own_metric!(METRIC_EXPORT_ERRORS);
register_own_metric!(SERIES_OVERFLOW);
register_own_metric!(SCRAPES_REFUSED);
register_own_metric!(BUILD_INFO);
