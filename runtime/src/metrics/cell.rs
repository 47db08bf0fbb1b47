//! The storage of one series: lock-free atomics for counters, gauges and
//! histograms, plus exemplar slots written only from sampled spans (which
//! recordings take an exemplar, and from where, is `exemplar`'s).
//!
//! Counters and histograms are striped: each series keeps [`STRIPES`]
//! copies of its words on separate cache lines, and a thread always writes
//! the same stripe. Threads of a busy service that record the same series
//! then touch different cache lines instead of bouncing one between cores
//! (a contended `fetch_add` costs 10-50x an uncontended one); a read adds
//! the stripes up. A histogram observation is two relaxed atomic operations
//! on one cache line of its stripe (the bucket, the sum); an exemplar is
//! written with `try_lock` and skipped, not waited for, when another thread
//! is writing one.
//!
//! Gauges are not striped: `set` must replace the value, not add to a copy.

use std::cell::Cell as ThreadCell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crossbeam_utils::CachePadded;
use opentelemetry::trace::{SpanId, TraceId};

use super::desc::MetricDesc;
use super::exemplar::{self, Exemplar, ExemplarSlot, SpanIds};

/// How many copies of its words a counter or histogram series keeps. Four
/// keeps two to four busy threads apart at 512 bytes per counter series;
/// more threads share stripes, which still divides their contention.
pub(crate) const STRIPES: usize = 4;

static NEXT_STRIPE: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// This thread's stripe, handed out round-robin on first use, so
    /// threads that start together get different stripes.
    static STRIPE: ThreadCell<usize> = const { ThreadCell::new(usize::MAX) };
}

/// The stripe the current thread writes.
#[inline]
fn stripe() -> usize {
    STRIPE.with(|stripe| {
        let current = stripe.get();
        if current < STRIPES {
            return current;
        }
        let assigned = NEXT_STRIPE.fetch_add(1, Ordering::Relaxed) % STRIPES;
        stripe.set(assigned);
        assigned
    })
}

/// The storage of one series of some metric type.
pub trait Cell: Send + Sync + 'static {
    /// A zeroed series for `desc`.
    fn new(desc: &MetricDesc) -> Self;
}

/// A counter series: one cache-line-padded word per stripe.
#[derive(Debug)]
pub struct CounterCell {
    stripes: [CachePadded<AtomicU64>; STRIPES],
    exemplar: ExemplarSlot,
    /// The plain calls link the current sampled span (`MetricDesc::exemplars`).
    automatic: bool,
}

impl Cell for CounterCell {
    fn new(desc: &MetricDesc) -> Self {
        CounterCell::new_const(desc.exemplars)
    }
}

impl CounterCell {
    /// A zeroed series; `automatic`: see [`MetricDesc::exemplars`].
    pub(crate) const fn new_const(automatic: bool) -> Self {
        CounterCell {
            stripes: [const { CachePadded::new(AtomicU64::new(0)) }; STRIPES],
            exemplar: ExemplarSlot::new(),
            automatic,
        }
    }

    /// Adds `n` to this thread's stripe; the stripe's previous value.
    #[inline]
    fn add(&self, n: u64) -> u64 {
        self.stripes[stripe()].fetch_add(n, Ordering::Relaxed)
    }

    /// Adds `n`; an add that takes an exemplar (see `exemplar::due`) links
    /// the current sampled span, if any.
    #[inline]
    pub(crate) fn inc_by(&self, n: u64) {
        self.inc_by_linking(n, exemplar::current_sampled_span);
    }

    /// [`CounterCell::inc_by`], with the span found by `span`.
    #[inline]
    fn inc_by_linking(&self, n: u64, span: impl FnOnce() -> Option<SpanIds>) {
        let previous = self.add(n);
        if exemplar::due(previous, n) && self.automatic {
            self.exemplar.offer_found(span, n as f64);
        }
    }

    /// Adds `n`, and links the current span as the exemplar when it is
    /// sampled, whichever add this is.
    pub(crate) fn inc_by_with_exemplar(&self, n: u64) {
        self.add(n);
        if let Some(ids) = exemplar::sampled_span() {
            self.exemplar.offer(ids, n as f64);
        }
    }

    /// Adds one with an exemplar linking to the given span, for the adds
    /// that take one (see `exemplar::due`).
    #[inline]
    pub(crate) fn inc_with_span(&self, trace_id: TraceId, span_id: SpanId) {
        if exemplar::due(self.add(1), 1) {
            self.exemplar.offer((trace_id, span_id), 1.0);
        }
    }

    pub(crate) fn get(&self) -> u64 {
        self.stripes
            .iter()
            .map(|word| word.load(Ordering::Relaxed))
            .fold(0, u64::wrapping_add)
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

/// Sixteen words on their own pair of cache lines (128 bytes: x86 CPUs
/// fetch lines in adjacent pairs, so 64-byte padding still false-shares).
#[repr(align(128))]
struct Line([AtomicU64; WORDS_PER_LINE]);

const WORDS_PER_LINE: usize = 16;

/// A histogram series: per stripe, a count per bucket (not cumulative;
/// `+Inf` last) followed by the sum's bits; an exemplar slot per bucket.
/// With the default 14 buckets a stripe is exactly one [`Line`].
pub struct HistogramCell {
    bounds: &'static [f64],
    /// `STRIPES` runs of `lines_per_stripe` lines each.
    lines: Box<[Line]>,
    lines_per_stripe: usize,
    exemplars: Box<[ExemplarSlot]>,
    /// The plain calls link the current sampled span (`MetricDesc::exemplars`).
    automatic: bool,
}

impl std::fmt::Debug for HistogramCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HistogramCell")
            .field("snapshot", &self.snapshot())
            .finish()
    }
}

impl Cell for HistogramCell {
    fn new(desc: &MetricDesc) -> Self {
        let buckets = desc.buckets.len() + 1;
        // The bucket counts, then the sum.
        let lines_per_stripe = (buckets + 1).div_ceil(WORDS_PER_LINE);
        HistogramCell {
            bounds: desc.buckets,
            lines: (0..STRIPES * lines_per_stripe)
                .map(|_| Line([const { AtomicU64::new(0) }; WORDS_PER_LINE]))
                .collect(),
            lines_per_stripe,
            exemplars: (0..buckets).map(|_| ExemplarSlot::default()).collect(),
            automatic: desc.exemplars,
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

    /// Word `index` of `stripe`: bucket counts first, then the sum.
    #[inline]
    fn word(&self, stripe: usize, index: usize) -> &AtomicU64 {
        let line = stripe * self.lines_per_stripe + index / WORDS_PER_LINE;
        &self.lines[line].0[index % WORDS_PER_LINE]
    }

    /// Counts `value` in its bucket of this thread's stripe and adds it to
    /// the stripe's sum; the bucket and the stripe's previous count of it.
    /// A NaN is not recorded: it has no bucket, and would make the sum NaN
    /// for good (OpenMetrics: a sum MUST NOT be NaN).
    #[inline]
    fn record(&self, value: f64) -> Option<(usize, u64)> {
        if value.is_nan() {
            return None;
        }
        let stripe = stripe();
        let bucket = self.bucket(value);
        let previous = self.word(stripe, bucket).fetch_add(1, Ordering::Relaxed);
        add_f64(self.word(stripe, self.bounds.len() + 1), value);
        Some((bucket, previous))
    }

    /// Records `value`; an observation that takes an exemplar (see
    /// `exemplar::due`: one in 64 of its bucket) links the current sampled
    /// span, if any.
    #[inline]
    pub(crate) fn observe(&self, value: f64) {
        self.observe_linking(value, exemplar::current_sampled_span);
    }

    /// [`HistogramCell::observe`], with the span found by `span`.
    #[inline]
    fn observe_linking(&self, value: f64, span: impl FnOnce() -> Option<SpanIds>) {
        if let Some((bucket, previous)) = self.record(value)
            && exemplar::due(previous, 1)
            && self.automatic
        {
            self.exemplars[bucket].offer_found(span, value);
        }
    }

    /// Records `value`, and links the current span as the bucket's
    /// exemplar when it is sampled, whichever observation this is.
    pub(crate) fn observe_with_exemplar(&self, value: f64) {
        let Some((bucket, _)) = self.record(value) else {
            return;
        };
        if let Some(ids) = exemplar::sampled_span() {
            self.exemplars[bucket].offer(ids, value);
        }
    }

    /// Records `value` with an exemplar linking to the given span, for the
    /// observations that take one (see `exemplar::due`).
    pub(crate) fn observe_with_span(&self, value: f64, trace_id: TraceId, span_id: SpanId) {
        let Some((bucket, previous)) = self.record(value) else {
            return;
        };
        if exemplar::due(previous, 1) {
            self.exemplars[bucket].offer((trace_id, span_id), value);
        }
    }

    pub(crate) fn snapshot(&self) -> HistogramSnapshot {
        let buckets = self.bounds.len() + 1;
        let mut counts = vec![0u64; buckets];
        let mut sum = 0.0;
        for stripe in 0..STRIPES {
            for (bucket, count) in counts.iter_mut().enumerate() {
                *count += self.word(stripe, bucket).load(Ordering::Relaxed);
            }
            sum += f64::from_bits(self.word(stripe, buckets).load(Ordering::Relaxed));
        }
        HistogramSnapshot {
            bounds: self.bounds,
            counts,
            sum,
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
        let counter = std::sync::Arc::new(CounterCell::new_const(true));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let counter = counter.clone();
                std::thread::spawn(move || (0..10_000).for_each(|_| counter.inc_by(1)))
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(counter.get(), 40_000);
    }

    #[test]
    fn histogram_stripes_add_up_across_threads() {
        // 20 buckets: a stripe spans two lines, the sum on the second.
        static BOUNDS: [f64; 20] = [
            1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0,
            17.0, 18.0, 19.0, 20.0,
        ];
        let desc = MetricDesc::histogram("h_seconds", "H").buckets(&BOUNDS);
        let cell = std::sync::Arc::new(HistogramCell::new(&desc));
        let threads: Vec<_> = (0..(2 * STRIPES))
            .map(|_| {
                let cell = cell.clone();
                std::thread::spawn(move || {
                    for i in 0..1_000 {
                        cell.observe(f64::from(i % 25));
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        let snapshot = cell.snapshot();
        let threads = 2 * STRIPES as u64;
        assert_eq!(snapshot.count(), threads * 1_000);
        // Per thread, 0..25 forty times: buckets 1..=20 take 0 and 1, then
        // one value each; +Inf takes 21..=24.
        assert_eq!(snapshot.counts[0], threads * 80);
        assert_eq!(snapshot.counts[1], threads * 40);
        assert_eq!(snapshot.counts[20], threads * 160);
        let expected_sum = threads as f64 * 40.0 * (0..25).sum::<i32>() as f64;
        assert_eq!(snapshot.sum, expected_sum);
    }

    fn ids(n: u8) -> SpanIds {
        (TraceId::from_bytes([n; 16]), SpanId::from_bytes([n; 8]))
    }

    #[test]
    fn a_plain_increment_links_the_sampled_span_once_in_64_and_asks_only_then() {
        let counter = CounterCell::new(&MetricDesc::counter("c_total", "C"));
        let asked = std::cell::Cell::new(0);
        for i in 0..130u8 {
            counter.inc_by_linking(1, || {
                asked.set(asked.get() + 1);
                Some(ids(i))
            });
        }
        assert_eq!(counter.get(), 130);
        // The 1st, 65th and 129th increments: the source is asked for those only.
        assert_eq!(asked.get(), 3);
        let exemplar = counter.exemplar().expect("an exemplar");
        assert_eq!((exemplar.trace_id, exemplar.span_id), ids(128));
        assert_eq!(exemplar.value, 1.0);
    }

    #[test]
    fn no_sampled_span_or_exemplars_off_means_no_exemplar() {
        let counter = CounterCell::new(&MetricDesc::counter("c_total", "C"));
        counter.inc_by_linking(1, || None);
        assert_eq!(counter.exemplar(), None, "no sampled span");

        let off = MetricDesc::counter("c_total", "C").exemplars(false);
        let counter = CounterCell::new(&off);
        counter.inc_by_linking(1, || panic!("not asked when exemplars are off"));
        assert_eq!(counter.get(), 1);
        assert_eq!(counter.exemplar(), None);
        let histogram =
            HistogramCell::new(&MetricDesc::histogram("h_seconds", "H").exemplars(false));
        histogram.observe_linking(0.3, || panic!("not asked when exemplars are off"));
        assert_eq!(histogram.snapshot().count(), 1);
        assert!(histogram.snapshot().exemplars.iter().all(Option::is_none));
    }

    #[test]
    fn a_plain_observation_links_the_sampled_span_per_bucket() {
        let desc = MetricDesc::histogram("h_seconds", "H").buckets(&[0.1, 1.0]);
        let histogram = HistogramCell::new(&desc);
        histogram.observe_linking(0.05, || Some(ids(1)));
        histogram.observe_linking(0.06, || Some(ids(2)));
        histogram.observe_linking(0.5, || Some(ids(3)));
        histogram.observe_linking(5.0, || None);
        let snapshot = histogram.snapshot();
        let linked: Vec<_> = snapshot
            .exemplars
            .iter()
            .map(|e| e.map(|e| ((e.trace_id, e.span_id), e.value)))
            .collect();
        // Each bucket's first observation; the +Inf one had no sampled span.
        assert_eq!(linked, [Some((ids(1), 0.05)), Some((ids(3), 0.5)), None]);
    }

    #[test]
    fn large_adds_link_about_one_add_in_64_to_128() {
        let counter = CounterCell::new(&MetricDesc::counter("sent_bytes_total", "B"));
        let asked = std::cell::Cell::new(0);
        for _ in 0..1_280 {
            counter.inc_by_linking(1_500, || {
                asked.set(asked.get() + 1);
                None
            });
        }
        assert!((10..=20).contains(&asked.get()), "{}", asked.get());
    }
}
