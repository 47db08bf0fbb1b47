//! Counters of what the pipeline exported, dropped and failed to export.
//! Relaxed atomics: they are statistics, not synchronisation.

use std::sync::atomic::{AtomicU64, Ordering};

pub(crate) struct Counter(AtomicU64);

impl Counter {
    const fn new() -> Self {
        Counter(AtomicU64::new(0))
    }
    pub(crate) fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

pub(crate) static SPANS_EXPORTED: Counter = Counter::new();
pub(crate) static SPANS_DROPPED: Counter = Counter::new();
pub(crate) static SPAN_EXPORT_ERRORS: Counter = Counter::new();
pub(crate) static LOGS_EXPORTED: Counter = Counter::new();
pub(crate) static LOGS_DROPPED: Counter = Counter::new();
pub(crate) static LOG_EXPORT_ERRORS: Counter = Counter::new();

/// A snapshot of the export counters since the process started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExportStats {
    /// Spans handed to an exporter that reported success.
    pub spans_exported: u64,
    /// Spans dropped because the export queue was full (or exporting failed).
    pub spans_dropped: u64,
    /// Export calls for spans that failed or timed out.
    pub span_export_errors: u64,
    /// Log records handed to an exporter that reported success.
    pub logs_exported: u64,
    /// Log records dropped because the export queue was full (or exporting failed).
    pub logs_dropped: u64,
    /// Export calls for log records that failed or timed out.
    pub log_export_errors: u64,
}

/// Reads the export counters.
///
/// ```
/// let stats = o11y_runtime::export::stats();
/// assert!(stats.spans_dropped <= stats.spans_dropped + stats.spans_exported);
/// ```
pub fn stats() -> ExportStats {
    ExportStats {
        spans_exported: SPANS_EXPORTED.get(),
        spans_dropped: SPANS_DROPPED.get(),
        span_export_errors: SPAN_EXPORT_ERRORS.get(),
        logs_exported: LOGS_EXPORTED.get(),
        logs_dropped: LOGS_DROPPED.get(),
        log_export_errors: LOG_EXPORT_ERRORS.get(),
    }
}
