//! o11y's own failures written to standard error, at most once per
//! interval: an exporter or a transport that keeps failing says so once,
//! then counts the rest in its metrics. Straight to stderr because a
//! `tracing` event from there could be queued for the very destination
//! that is failing.

use std::fmt;
use std::time::{Duration, Instant};

/// When the last report was written, and how long the next one waits.
#[derive(Debug)]
pub(crate) struct StderrReport {
    interval: Duration,
    last: Option<Instant>,
}

impl StderrReport {
    pub(crate) const fn every(interval: Duration) -> StderrReport {
        StderrReport {
            interval,
            last: None,
        }
    }

    /// Writes `message`, then says how often reports come, unless one was
    /// written within the interval.
    pub(crate) fn write(&mut self, message: fmt::Arguments<'_>) {
        let now = Instant::now();
        if self.last.is_some_and(|at| now - at < self.interval) {
            return;
        }
        self.last = Some(now);
        eprintln!(
            "o11y: {message} (reported at most every {}s)",
            self.interval.as_secs()
        );
    }
}
