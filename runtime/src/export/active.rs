//! The exporter of the live `init()` guard, for [`flush`]: the one place
//! that can reach it from anywhere in the process.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::Exporter;

/// The exporter of the live guard.
static ACTIVE_EXPORTER: Mutex<Option<Arc<Exporter>>> = Mutex::new(None);

/// Writes the log lines waiting in batches (for the log file, and for a
/// standard output that is not a terminal), and exports everything queued
/// so far, waiting at most `timeout`; returns
/// false when the deadline passed first or o11y is not initialised (or
/// built with the `off` feature); true when it runs without an exporter:
/// nothing waits to be exported.
/// Useful before a process is frozen (serverless) or in tests.
pub fn flush(timeout: Duration) -> bool {
    crate::log::flush();
    let guard = ACTIVE_EXPORTER
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    match guard.as_ref() {
        Some(exporter) => exporter.flush(timeout),
        None => crate::flags::flags() != 0,
    }
}

/// Makes `exporter` the one [`flush`] reaches (`None`: no exporter).
pub(crate) fn set_active(exporter: Option<Arc<Exporter>>) {
    *ACTIVE_EXPORTER
        .lock()
        .unwrap_or_else(PoisonError::into_inner) = exporter;
}

/// Forgets `exporter` if it is the active one (its guard is dropping).
pub(crate) fn forget(exporter: &Arc<Exporter>) {
    let mut active = ACTIVE_EXPORTER
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if active.as_ref().is_some_and(|a| Arc::ptr_eq(a, exporter)) {
        *active = None;
    }
}
