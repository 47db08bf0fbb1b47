//! Exemplars: the span a recorded value links to, which recordings take
//! one, and the slot a series (or a histogram bucket) keeps its latest in.
//!
//! A plain recording call (`inc`, `inc_by`, `observe`) inside a sampled
//! span links that span, for one recording in [`EXEMPLAR_EVERY`] of its
//! series or bucket per thread stripe, the first included ([`due`]). The
//! test is on the count the recording's own atomic add returns, so the 63
//! other calls pay one branch on a value already in a register; the 64th
//! reads [`crate::flags`] (one relaxed load, enough when tracing is off)
//! and only then asks the subscriber for the current span. A thread-local
//! copy of the current span's ids would save that lookup, but the
//! subscriber would have to keep it up to date at every span entry and exit
//! (every poll of an instrumented future), sampled or not: a cost on every
//! span to save one on a 64th of the recordings inside sampled ones.
//!
//! Where the current span lives is the subscriber's to know (a higher
//! layer): it registers the lookup as the exemplar source when it is
//! built.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::SystemTime;

use opentelemetry::trace::{SpanId, TraceId};

use crate::flags::{TRACING, flags};

/// A trace that explains a value: the span that recorded it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Exemplar {
    /// The trace of the span that recorded the value.
    pub trace_id: TraceId,
    /// The span that recorded the value.
    pub span_id: SpanId,
    /// The value recorded (the increment, or the observation).
    pub value: f64,
    /// When it was recorded.
    pub timestamp: SystemTime,
}

/// The ids of a sampled span.
pub(crate) type SpanIds = (TraceId, SpanId);

/// A series or bucket keeps the exemplar of one recording in this many
/// (per stripe), the first included: rare (slow) buckets always get one,
/// busy ones stay fresh, and the other recordings skip the clock read and
/// the lock an exemplar costs.
const EXEMPLAR_EVERY: u64 = 64;
// A power of two, so that `due` needs no division.
const EXEMPLAR_EVERY_LOG2: u32 = EXEMPLAR_EVERY.trailing_zeros();
const _: () = assert!(EXEMPLAR_EVERY.is_power_of_two());

/// Whether adding `n` to a count that was `previous` takes an exemplar.
///
/// An increment of one takes the 1st, 65th, 129th… (`previous` a multiple
/// of [`EXEMPLAR_EVERY`]). A larger `n` (bytes sent, say) counts in steps
/// of the smallest power of two at least `EXEMPLAR_EVERY * n`, and takes
/// the add that reaches or crosses a multiple of the step: still about
/// one add in 64 to 128, where a test on multiples of 64 would take every
/// add of 64 bytes or more. A shift and a mask, no division.
#[inline]
pub(crate) fn due(previous: u64, n: u64) -> bool {
    if n == 0 {
        return false;
    }
    // The bits of `n - 1`: 0 for an increment of one.
    let bits = u64::BITS - (n - 1).leading_zeros();
    let step_log2 = (EXEMPLAR_EVERY_LOG2 + bits).min(63);
    let offset = previous & ((1u64 << step_log2) - 1);
    offset == 0 || n > (1u64 << step_log2) - offset
}

/// Holds the latest exemplar of a series (or of a bucket).
#[derive(Debug, Default)]
pub(crate) struct ExemplarSlot {
    /// Set once an exemplar was stored: exposition skips the lock of the
    /// many series that never get one.
    filled: AtomicBool,
    exemplar: Mutex<Option<Exemplar>>,
}

impl ExemplarSlot {
    pub(crate) const fn new() -> Self {
        ExemplarSlot {
            filled: AtomicBool::new(false),
            exemplar: Mutex::new(None),
        }
    }

    /// Stores an exemplar, unless another thread is storing one: it is
    /// skipped, not waited for.
    pub(crate) fn offer(&self, (trace_id, span_id): SpanIds, value: f64) {
        if let Ok(mut slot) = self.exemplar.try_lock() {
            *slot = Some(Exemplar {
                trace_id,
                span_id,
                value,
                timestamp: SystemTime::now(),
            });
            self.filled.store(true, Ordering::Release);
        }
    }

    /// Stores an exemplar linking the span `span` finds, if it finds one.
    /// Out of line: a plain recording call comes here once in
    /// [`EXEMPLAR_EVERY`].
    #[cold]
    #[inline(never)]
    pub(crate) fn offer_found(&self, span: impl FnOnce() -> Option<SpanIds>, value: f64) {
        if let Some(ids) = span() {
            self.offer(ids, value);
        }
    }

    pub(crate) fn get(&self) -> Option<Exemplar> {
        if !self.filled.load(Ordering::Acquire) {
            return None;
        }
        *self.exemplar.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Where the ids of the current sampled span come from: the subscriber,
/// a layer above, registers it when it is built (it alone knows where
/// spans live).
static EXEMPLAR_SOURCE: OnceLock<ExemplarSource> = OnceLock::new();

/// The ids of the current span when it is sampled.
pub(crate) type ExemplarSource = fn() -> Option<SpanIds>;

/// Registers where exemplars find the current sampled span; the first
/// registration stays.
pub(crate) fn set_exemplar_source(source: ExemplarSource) {
    let _ = EXEMPLAR_SOURCE.get_or_init(|| source);
}

/// The ids of the current span when it is sampled: what an exemplar links
/// to. `None` before an o11y subscriber exists.
pub(crate) fn sampled_span() -> Option<SpanIds> {
    EXEMPLAR_SOURCE.get().and_then(|source| source())
}

/// [`sampled_span`] for a plain recording call: `None` at once when
/// tracing is off (or o11y is not initialised, or its guard is dropped),
/// where no span can be sampled.
pub(crate) fn current_sampled_span() -> Option<SpanIds> {
    if flags() & TRACING == 0 {
        return None;
    }
    sampled_span()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The adds of `n` among the first `calls` that take an exemplar.
    fn taken(n: u64, calls: u64) -> Vec<u64> {
        (0..calls).filter(|i| due(i * n, n)).collect()
    }

    #[test]
    fn an_increment_of_one_takes_the_first_and_every_64th() {
        assert_eq!(taken(1, 200), [0, 64, 128, 192]);
    }

    #[test]
    fn larger_adds_take_about_one_in_64_to_128() {
        for n in [2, 3, 63, 64, 65, 1_500, 1 << 20, (1 << 40) + 7] {
            let calls = 4_096;
            let count = taken(n, calls).len() as u64;
            assert!(
                (calls / 128..=calls / 64 + 1).contains(&count),
                "n = {n}: {count} of {calls}"
            );
            assert!(due(0, n), "n = {n}: the first add takes one");
        }
    }

    #[test]
    fn nothing_added_takes_none_and_huge_adds_do_not_overflow() {
        assert!(!due(0, 0));
        assert!(!due(64, 0));
        assert!(due(1, u64::MAX));
        assert!(due(u64::MAX - 1, u64::MAX));
    }
}
