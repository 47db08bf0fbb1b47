//! What the pipeline exported, dropped and failed to export. The counts live
//! in the runtime's own metrics (`o11y_spans_exported_total`, …), so they are
//! scraped with everything else; [`stats`] reads them in code.

use crate::metrics::own::{
    LOG_EXPORT_ERRORS, LOGS_DROPPED, LOGS_EXPORTED, METRIC_EXPORT_ERRORS, SPAN_EXPORT_ERRORS,
    SPANS_EXPORTED, SpanDrop, spans_dropped,
};

/// A snapshot of the export counters since the process started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExportStats {
    /// Spans handed to an exporter that reported success.
    pub spans_exported: u64,
    /// Spans dropped because the export queue was full (or exporting failed).
    pub spans_dropped: u64,
    /// Spans tail sampling dropped because it held as many as it may: of
    /// their trace (`tracing.tail_max_spans_per_trace`) or in all
    /// (`tracing.tail_max_bytes`). A trace the tail rules do not keep is
    /// not counted: that is sampling, not a loss.
    pub spans_tail_dropped: u64,
    /// Export calls for spans that failed or timed out.
    pub span_export_errors: u64,
    /// Log records handed to an exporter that reported success.
    pub logs_exported: u64,
    /// Log records dropped because the export queue was full (or exporting failed).
    pub logs_dropped: u64,
    /// Export calls for log records that failed or timed out.
    pub log_export_errors: u64,
    /// OTLP metric pushes that failed or timed out.
    pub metric_export_errors: u64,
}

/// Reads the export counters.
///
/// ```
/// let stats = o11y_runtime::export::stats();
/// assert_eq!(stats.spans_exported, 0); // nothing was initialised here
/// ```
pub fn stats() -> ExportStats {
    ExportStats {
        spans_exported: SPANS_EXPORTED.get(),
        spans_dropped: spans_dropped(SpanDrop::QueueFull) + spans_dropped(SpanDrop::ExportFailed),
        spans_tail_dropped: spans_dropped(SpanDrop::TailTraceCap)
            + spans_dropped(SpanDrop::TailBytesCap),
        span_export_errors: SPAN_EXPORT_ERRORS.get(),
        logs_exported: LOGS_EXPORTED.get(),
        logs_dropped: LOGS_DROPPED.get(),
        log_export_errors: LOG_EXPORT_ERRORS.get(),
        metric_export_errors: METRIC_EXPORT_ERRORS.get(),
    }
}
