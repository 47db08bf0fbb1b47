//! How long an HTTP call took: a recorded call reads the wall clock, which
//! its span needs anyway (start and end times); any other reads the
//! monotonic one. Shared by the server layer and the client middleware.

use std::time::{Duration, Instant, SystemTime};

/// When a request (or an outbound call) started.
#[derive(Clone, Copy)]
pub(crate) enum Clock {
    Wall(SystemTime),
    Mono(Instant),
}

impl Clock {
    /// The time since the start, and the end time for a recorded span.
    pub(crate) fn stop(self) -> (Duration, Option<SystemTime>) {
        match self {
            Clock::Mono(start) => (start.elapsed(), None),
            Clock::Wall(start) => {
                let now = SystemTime::now();
                (now.duration_since(start).unwrap_or_default(), Some(now))
            }
        }
    }
}
