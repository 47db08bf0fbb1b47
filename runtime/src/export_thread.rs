//! Marks o11y's own export thread, whose telemetry every stage ignores: the
//! libraries it exports with (tonic, hyper, h2) emit `tracing` events and
//! spans, and recording them would feed the exporter forever. A foundation:
//! `export` marks its thread, the stages below and above it read the mark.

use std::cell::Cell;

thread_local! {
    static IS_EXPORT_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// True on the export thread.
#[inline]
pub(crate) fn is_export_thread() -> bool {
    IS_EXPORT_THREAD.with(Cell::get)
}

/// Marks the calling thread as the export thread, for its whole life.
pub(crate) fn mark_export_thread() {
    IS_EXPORT_THREAD.with(|flag| flag.set(true));
}
