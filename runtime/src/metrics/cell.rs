//! The storage of one series: lock-free atomics for counters, gauges and
//! histograms, plus exemplar slots written only from sampled spans.
//!
//! A histogram observation is three relaxed atomic operations (bucket,
//! count, sum); an exemplar is written with `try_lock` and skipped, not
//! waited for, when another thread is writing one.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::SystemTime;

use opentelemetry::trace::{SpanId, TraceId};

use super::desc::MetricDesc;

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

/// A bucket keeps the exemplar of one observation in this many.
const EXEMPLAR_EVERY: u64 = 64;

/// Holds the latest exemplar of a series (or of a bucket).
#[derive(Debug, Default)]
pub(crate) struct ExemplarSlot {
    /// Set once an exemplar was stored: exposition skips the lock of the
    /// many series that never get one.
    filled: AtomicBool,
    exemplar: Mutex<Option<Exemplar>>,
}

impl ExemplarSlot {
    const fn new() -> Self {
        ExemplarSlot {
            filled: AtomicBool::new(false),
            exemplar: Mutex::new(None),
        }
    }

    fn offer(&self, trace_id: TraceId, span_id: SpanId, value: f64) {
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

    pub(crate) fn get(&self) -> Option<Exemplar> {
        if !self.filled.load(Ordering::Acquire) {
            return None;
        }
        *self.exemplar.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The ids of the current span when it is sampled: what an exemplar links to.
pub(crate) fn sampled_span() -> Option<(TraceId, SpanId)> {
    crate::trace::current::current_ids()
        .and_then(|(trace_id, span_id, sampled)| sampled.then_some((trace_id, span_id)))
}

/// The storage of one series of some metric type.
pub trait Cell: Send + Sync + 'static {
    /// A zeroed series for `desc`.
    fn new(desc: &MetricDesc) -> Self;
}

/// A counter series.
#[derive(Debug, Default)]
pub struct CounterCell {
    value: AtomicU64,
    exemplar: ExemplarSlot,
}

impl Cell for CounterCell {
    fn new(_: &MetricDesc) -> Self {
        CounterCell::default()
    }
}

impl CounterCell {
    pub(crate) const fn new_const() -> Self {
        CounterCell {
            value: AtomicU64::new(0),
            exemplar: ExemplarSlot::new(),
        }
    }

    #[inline]
    pub(crate) fn inc_by(&self, n: u64) {
        self.value.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn inc_by_with_exemplar(&self, n: u64) {
        self.inc_by(n);
        if let Some((trace_id, span_id)) = sampled_span() {
            self.exemplar.offer(trace_id, span_id, n as f64);
        }
    }

    /// Adds one with an exemplar linking to the given span, kept for the
    /// 1st, 65th, 129th… increment (see [`HistogramCell::observe_with_span`]).
    #[inline]
    pub(crate) fn inc_with_span(&self, trace_id: TraceId, span_id: SpanId) {
        let previous = self.value.fetch_add(1, Ordering::Relaxed);
        if previous.is_multiple_of(EXEMPLAR_EVERY) {
            self.exemplar.offer(trace_id, span_id, 1.0);
        }
    }

    pub(crate) fn get(&self) -> u64 {
        self.value.load(Ordering::Relaxed)
    }

    pub(crate) fn exemplar(&self) -> Option<Exemplar> {
        self.exemplar.get()
    }
}

/// A gauge series: an `f64` stored as bits.
#[derive(Debug, Default)]
pub struct GaugeCell {
    bits: AtomicU64,
}

impl Cell for GaugeCell {
    fn new(_: &MetricDesc) -> Self {
        GaugeCell::default()
    }
}

impl GaugeCell {
    pub(crate) const fn new_const() -> Self {
        GaugeCell {
            bits: AtomicU64::new(0),
        }
    }

    #[inline]
    pub(crate) fn set(&self, value: f64) {
        self.bits.store(value.to_bits(), Ordering::Relaxed);
    }

    #[inline]
    pub(crate) fn add(&self, delta: f64) {
        add_f64(&self.bits, delta);
    }

    pub(crate) fn get(&self) -> f64 {
        f64::from_bits(self.bits.load(Ordering::Relaxed))
    }
}

#[inline]
fn add_f64(bits: &AtomicU64, delta: f64) {
    let _ = bits.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |current| {
        Some((f64::from_bits(current) + delta).to_bits())
    });
}

/// A histogram series: a count per bucket (not cumulative; `+Inf` last),
/// the sum, and an exemplar slot per bucket.
#[derive(Debug)]
pub struct HistogramCell {
    bounds: &'static [f64],
    counts: Box<[AtomicU64]>,
    sum_bits: AtomicU64,
    exemplars: Box<[ExemplarSlot]>,
}

impl Cell for HistogramCell {
    fn new(desc: &MetricDesc) -> Self {
        let buckets = desc.buckets.len() + 1;
        HistogramCell {
            bounds: desc.buckets,
            counts: (0..buckets).map(|_| AtomicU64::new(0)).collect(),
            sum_bits: AtomicU64::new(0),
            exemplars: (0..buckets).map(|_| ExemplarSlot::default()).collect(),
        }
    }
}

/// A consistent-enough read of a histogram series.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramSnapshot {
    /// Upper bounds, without `+Inf`.
    pub bounds: &'static [f64],
    /// Observations per bucket (not cumulative), `+Inf` bucket last.
    pub counts: Vec<u64>,
    /// Sum of all observations.
    pub sum: f64,
    /// Latest exemplar per bucket, `+Inf` last.
    pub exemplars: Vec<Option<Exemplar>>,
}

impl HistogramSnapshot {
    /// Total observations: the sum of the buckets, so it always equals the
    /// `+Inf` cumulative count even under concurrent updates.
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }
}

impl HistogramCell {
    #[inline]
    fn bucket(&self, value: f64) -> usize {
        // Buckets are few (14 by default): a linear scan beats a binary search.
        self.bounds
            .iter()
            .position(|bound| value <= *bound)
            .unwrap_or(self.bounds.len())
    }

    #[inline]
    pub(crate) fn observe(&self, value: f64) {
        self.counts[self.bucket(value)].fetch_add(1, Ordering::Relaxed);
        add_f64(&self.sum_bits, value);
    }

    pub(crate) fn observe_with_exemplar(&self, value: f64) {
        let bucket = self.bucket(value);
        self.counts[bucket].fetch_add(1, Ordering::Relaxed);
        add_f64(&self.sum_bits, value);
        if let Some((trace_id, span_id)) = sampled_span() {
            self.exemplars[bucket].offer(trace_id, span_id, value);
        }
    }

    /// Records `value` with an exemplar linking to the given span. The
    /// exemplar is kept for the 1st, 65th, 129th… observation of its bucket:
    /// rare (slow) buckets always get one, busy ones stay fresh, and the
    /// common case skips the clock read and the lock an exemplar costs.
    pub(crate) fn observe_with_span(&self, value: f64, trace_id: TraceId, span_id: SpanId) {
        let bucket = self.bucket(value);
        let previous = self.counts[bucket].fetch_add(1, Ordering::Relaxed);
        add_f64(&self.sum_bits, value);
        if previous.is_multiple_of(EXEMPLAR_EVERY) {
            self.exemplars[bucket].offer(trace_id, span_id, value);
        }
    }

    pub(crate) fn snapshot(&self) -> HistogramSnapshot {
        HistogramSnapshot {
            bounds: self.bounds,
            counts: self
                .counts
                .iter()
                .map(|c| c.load(Ordering::Relaxed))
                .collect(),
            sum: f64::from_bits(self.sum_bits.load(Ordering::Relaxed)),
            exemplars: self.exemplars.iter().map(ExemplarSlot::get).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_upper_inclusive_with_inf_last() {
        let desc = MetricDesc::histogram("h_seconds", "H").buckets(&[0.1, 1.0]);
        let cell = HistogramCell::new(&desc);
        for v in [0.05, 0.1, 0.5, 1.0, 3.0, f64::INFINITY] {
            cell.observe(v);
        }
        let snapshot = cell.snapshot();
        assert_eq!(snapshot.counts, vec![2, 2, 2]);
        assert_eq!(snapshot.count(), 6);
        assert!(snapshot.sum.is_infinite());
    }

    #[test]
    fn gauge_adds_and_sets_floats() {
        let gauge = GaugeCell::new_const();
        gauge.add(1.5);
        gauge.add(-0.5);
        assert_eq!(gauge.get(), 1.0);
        gauge.set(-7.25);
        assert_eq!(gauge.get(), -7.25);
    }

    #[test]
    fn concurrent_increments_are_not_lost() {
        let counter = std::sync::Arc::new(CounterCell::new_const());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let counter = counter.clone();
                std::thread::spawn(move || (0..10_000).for_each(|_| counter.inc_by(1)))
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(counter.get(), 40_000);
    }
}
