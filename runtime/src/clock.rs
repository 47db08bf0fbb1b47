//! How long a call took. A recorded call reads the wall clock, which its
//! span needs anyway (start and end times); any other call reads the CPU's
//! time-stamp counter through [`quanta`], calibrated against the monotonic
//! clock: two reads per call are most of what a metrics-only call costs,
//! and a counter read is cheaper than `Instant::now()` (`clock_gettime`)
//! where the TSC is invariant. Elsewhere quanta reads the OS's monotonic
//! clock, as `Instant` does. Shared by `#[observe]`, the HTTP layer and the
//! client middleware.

use std::sync::LazyLock;
use std::time::{Duration, SystemTime};

/// Calibrated once, at the first read or at [`calibrate`]: quanta measures
/// the counter's frequency against the OS clock (a few ms, 200 ms at most).
static COUNTER: LazyLock<quanta::Clock> = LazyLock::new(quanta::Clock::new);

/// Calibrates the counter now (done by `init`), so that no observed call
/// pays for it.
pub(crate) fn calibrate() {
    LazyLock::force(&COUNTER);
}

/// When a call started.
#[derive(Clone, Copy)]
pub(crate) enum Clock {
    Wall(SystemTime),
    /// A raw counter reading, scaled only once the call ends.
    Mono(u64),
}

impl Clock {
    /// Starts timing a call that records no span.
    #[inline]
    pub(crate) fn mono() -> Clock {
        Clock::Mono(COUNTER.raw())
    }

    /// The time since the start, and the end time for a recorded span.
    #[inline]
    pub(crate) fn stop(self) -> (Duration, Option<SystemTime>) {
        match self {
            Clock::Mono(start) => {
                let counter = &*COUNTER;
                let nanos = counter.delta_as_nanos(start, counter.raw());
                (Duration::from_nanos(nanos), None)
            }
            Clock::Wall(start) => {
                let now = SystemTime::now();
                (now.duration_since(start).unwrap_or_default(), Some(now))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Clock;
    use std::time::{Duration, Instant};

    #[test]
    fn the_counter_agrees_with_the_monotonic_clock() {
        let clock = Clock::mono();
        let reference = Instant::now();
        std::thread::sleep(Duration::from_millis(20));
        let (measured, end) = clock.stop();
        let expected = reference.elapsed();
        assert!(end.is_none());
        // The counter was read first and stopped last: it can only be
        // longer, by the time between the reads plus calibration error.
        let lower = Duration::from_millis(20);
        let upper = expected + Duration::from_millis(5);
        assert!(
            measured >= lower && measured <= upper,
            "{measured:?} not in {lower:?}..={upper:?}"
        );
    }

    #[test]
    fn a_wall_clock_start_gives_the_end_time() {
        let start = std::time::SystemTime::now();
        let (elapsed, end) = Clock::Wall(start).stop();
        let end = end.expect("a recorded call's end time");
        assert_eq!(end.duration_since(start).unwrap(), elapsed);
    }
}
