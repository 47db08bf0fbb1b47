//! How long a call took, read from the CPU's time-stamp counter through
//! [`quanta`] (calibrated against the monotonic clock): two clock reads are
//! most of what a metrics-only call costs, and a counter read is cheaper
//! than `Instant::now()` (`clock_gettime`) where the TSC is invariant;
//! elsewhere quanta reads the OS's monotonic clock, as `Instant` does.
//! A recorded call also reads the wall clock once, for its span's start
//! time; its end time is that start plus the counted duration, as
//! OpenTelemetry's SDKs anchor span clocks, so the span's length is the
//! duration the metrics saw. Shared by `#[observe]`, the HTTP layer and the
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

/// When a call started: a raw counter reading, scaled only once the call
/// ends, and for a recorded call the wall-clock time of that reading.
#[derive(Clone, Copy)]
pub(crate) enum Clock {
    Wall { start: SystemTime, tick: u64 },
    Mono(u64),
}

impl Clock {
    /// Starts timing a call that records a span; also returns the span's
    /// start time.
    #[inline]
    pub(crate) fn wall() -> (Clock, SystemTime) {
        // Calibrated before the wall clock is read, should this be the
        // first read: the two readings must be taken together.
        let counter = &*COUNTER;
        let start = SystemTime::now();
        let tick = counter.raw();
        (Clock::Wall { start, tick }, start)
    }

    /// Starts timing a call that records no span.
    #[inline]
    pub(crate) fn mono() -> Clock {
        Clock::Mono(COUNTER.raw())
    }

    /// The time since the start, and the end time for a recorded span.
    #[inline]
    pub(crate) fn stop(self) -> (Duration, Option<SystemTime>) {
        let counter = &*COUNTER;
        match self {
            Clock::Mono(tick) => (elapsed(counter, tick), None),
            Clock::Wall { start, tick } => {
                let elapsed = elapsed(counter, tick);
                (elapsed, Some(start + elapsed))
            }
        }
    }
}

/// `duration` in milliseconds, as log lines and span attributes carry it.
/// Whole nanoseconds divided once, so the float is the one nearest the
/// exact value and prints as written: 4,858 ns is `0.004858`, where
/// `as_secs_f64() * 1000.0` rounds twice and prints `0.0048579999999999995`.
pub(crate) fn millis(duration: Duration) -> f64 {
    duration.as_nanos() as f64 / 1e6
}

#[inline]
fn elapsed(counter: &quanta::Clock, since: u64) -> Duration {
    Duration::from_nanos(counter.delta_as_nanos(since, counter.raw()))
}

#[cfg(test)]
mod tests {
    use super::{Clock, millis};
    use std::time::{Duration, Instant};

    #[test]
    fn milliseconds_print_as_their_decimal_value() {
        let cases = [
            (Duration::from_nanos(4_858), "0.004858"),
            (Duration::from_nanos(5_264), "0.005264"),
            (Duration::from_micros(12_345), "12.345"),
            (Duration::from_millis(1_500), "1500"),
            (Duration::ZERO, "0"),
        ];
        for (duration, printed) in cases {
            assert_eq!(millis(duration).to_string(), printed, "{duration:?}");
        }
    }

    #[test]
    fn the_counter_agrees_with_the_monotonic_clock() {
        let clock = Clock::mono();
        let reference = Instant::now();
        std::thread::sleep(Duration::from_millis(20));
        let (measured, end) = clock.stop();
        let expected = reference.elapsed();
        assert!(end.is_none());
        // The counter was read first and stopped first: it is longer than
        // the sleep, and shorter than the reference but for the time
        // between the two first reads (a preemption, on a busy machine)
        // and calibration error.
        let lower = Duration::from_millis(20);
        let upper = expected + Duration::from_millis(50);
        assert!(
            measured >= lower && measured <= upper,
            "{measured:?} not in {lower:?}..={upper:?}"
        );
    }

    #[test]
    fn a_recorded_call_ends_at_its_start_plus_its_duration() {
        let (clock, start) = Clock::wall();
        std::thread::sleep(Duration::from_millis(20));
        let (elapsed, end) = clock.stop();
        let end = end.expect("a recorded call's end time");
        assert_eq!(end.duration_since(start).unwrap(), elapsed);
        assert!(elapsed >= Duration::from_millis(20), "{elapsed:?}");
        // Ends where the wall clock is, give or take the scheduler (this
        // thread may be preempted right here on a busy machine).
        let now = std::time::SystemTime::now();
        let skew = now.duration_since(end).unwrap_or_else(|e| e.duration());
        assert!(
            skew < Duration::from_millis(50),
            "end {end:?} vs now {now:?}"
        );
    }
}
