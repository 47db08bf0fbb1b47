//! The metric types users declare as statics: [`Counter`], [`Gauge`],
//! [`Histogram`] and their labelled forms [`CounterVec`], [`GaugeVec`],
//! [`HistogramVec`], whose `labels(..)` hands out a handle to keep.
//!
//! ```
//! use o11y_runtime::metrics::{CounterVec, Histogram, MetricDesc};
//!
//! static PAYMENTS: CounterVec<2> = CounterVec::new(
//!     MetricDesc::counter("payments_total", "Payments processed").labels(&["status", "method"]),
//! );
//! static CHECKOUT: Histogram = Histogram::new(
//!     MetricDesc::histogram("checkout_duration_seconds", "Checkout latency").unit("seconds"),
//! );
//! o11y_runtime::register_metric!(PAYMENTS);
//! o11y_runtime::register_metric!(CHECKOUT);
//!
//! let card_ok = PAYMENTS.labels(["success", "card"]); // keep it: no lookup next time
//! card_ok.inc();
//! {
//!     let _timer = CHECKOUT.start_timer(); // records the elapsed seconds when dropped
//! }
//! assert_eq!(card_ok.get(), 1);
//! ```
//!
//! Counters and histograms link exemplars: see [the metrics
//! module](crate::metrics#exemplars).

use std::sync::Arc;
use std::time::Instant;

use opentelemetry::trace::{SpanId, TraceId};

use super::cell::{CounterCell, GaugeCell, HistogramCell, HistogramSnapshot};
use super::desc::{MetricDesc, MetricKind};
use super::exemplar::Exemplar;
use super::family::Family;

/// One series' value, as exposition and export read it.
#[derive(Debug, Clone, Copy)]
pub enum SeriesValue<'a> {
    /// A counter's value and latest exemplar.
    Counter(u64, Option<Exemplar>),
    /// A gauge's value.
    Gauge(f64),
    /// A histogram's buckets, sum and exemplars.
    Histogram(&'a HistogramSnapshot),
}

/// What the registry knows of every metric: its description and its series.
pub trait Metric: Sync + 'static {
    /// The static description.
    fn desc(&self) -> &MetricDesc;
    /// Calls `f` with the label values and value of every series.
    fn visit(&self, f: &mut dyn FnMut(&[&str], SeriesValue<'_>));
}

const fn expect_kind(desc: &MetricDesc, kind: MetricKind, labels: usize) {
    assert!(
        desc.kind as u8 == kind as u8,
        "the MetricDesc is of another metric type"
    );
    assert!(
        desc.labels.len() == labels,
        "the MetricDesc's label count differs from the type's"
    );
}

/// A counter without labels.
#[derive(Debug)]
pub struct Counter {
    desc: MetricDesc,
    cell: CounterCell,
}

impl Counter {
    /// A counter described by `desc` (a [`MetricDesc::counter`] without labels).
    pub const fn new(desc: MetricDesc) -> Self {
        expect_kind(&desc, MetricKind::Counter, 0);
        Counter {
            desc,
            cell: CounterCell::new_const(desc.exemplars),
        }
    }
    /// Adds one; inside a sampled span, one increment in 64 links it as
    /// exemplar (see [exemplars](crate::metrics#exemplars)).
    #[inline]
    pub fn inc(&self) {
        self.cell.inc_by(1);
    }
    /// Adds `n`; inside a sampled span, about one call in 64 links it as
    /// exemplar (see [exemplars](crate::metrics#exemplars)).
    #[inline]
    pub fn inc_by(&self, n: u64) {
        self.cell.inc_by(n);
    }
    /// Adds `n`, and links the current span as exemplar when it is sampled,
    /// on every call: for a rare event whose latest occurrence is the one
    /// to link. [`Counter::inc_by`] links one call in 64.
    pub fn inc_by_with_exemplar(&self, n: u64) {
        self.cell.inc_by_with_exemplar(n);
    }
    /// The current value.
    pub fn get(&self) -> u64 {
        self.cell.get()
    }
}

impl Metric for Counter {
    fn desc(&self) -> &MetricDesc {
        &self.desc
    }
    fn visit(&self, f: &mut dyn FnMut(&[&str], SeriesValue<'_>)) {
        f(
            &[],
            SeriesValue::Counter(self.cell.get(), self.cell.exemplar()),
        );
    }
}

/// A gauge without labels.
#[derive(Debug)]
pub struct Gauge {
    desc: MetricDesc,
    cell: GaugeCell,
}

impl Gauge {
    /// A gauge described by `desc` (a [`MetricDesc::gauge`] without labels).
    pub const fn new(desc: MetricDesc) -> Self {
        expect_kind(&desc, MetricKind::Gauge, 0);
        Gauge {
            desc,
            cell: GaugeCell::new_const(),
        }
    }
    /// Sets the value.
    #[inline]
    pub fn set(&self, value: f64) {
        self.cell.set(value);
    }
    /// Adds `delta` (negative to subtract).
    #[inline]
    pub fn add(&self, delta: f64) {
        self.cell.add(delta);
    }
    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        self.cell.add(1.0);
    }
    /// Subtracts one.
    #[inline]
    pub fn dec(&self) {
        self.cell.add(-1.0);
    }
    /// The current value.
    pub fn get(&self) -> f64 {
        self.cell.get()
    }
}

impl Metric for Gauge {
    fn desc(&self) -> &MetricDesc {
        &self.desc
    }
    fn visit(&self, f: &mut dyn FnMut(&[&str], SeriesValue<'_>)) {
        f(&[], SeriesValue::Gauge(self.cell.get()));
    }
}

/// A histogram without labels. Its cell is allocated on first use, since
/// the bucket count comes from the description.
#[derive(Debug)]
pub struct Histogram {
    desc: MetricDesc,
    cell: std::sync::OnceLock<HistogramCell>,
}

impl Histogram {
    /// A histogram described by `desc` (a [`MetricDesc::histogram`] without labels).
    pub const fn new(desc: MetricDesc) -> Self {
        expect_kind(&desc, MetricKind::Histogram, 0);
        Histogram {
            desc,
            cell: std::sync::OnceLock::new(),
        }
    }
    #[inline]
    fn cell(&self) -> &HistogramCell {
        self.cell
            .get_or_init(|| <HistogramCell as super::cell::Cell>::new(&self.desc))
    }
    /// Records one observation; inside a sampled span, one observation in
    /// 64 of its bucket links it as exemplar (see
    /// [exemplars](crate::metrics#exemplars)). A NaN is ignored: it has no
    /// bucket, and would make the sum NaN for good.
    #[inline]
    pub fn observe(&self, value: f64) {
        self.cell().observe(value);
    }
    /// Records one observation, linking the current span as the bucket's
    /// exemplar when it is sampled, on every call. [`Histogram::observe`]
    /// links one observation in 64 of each bucket.
    pub fn observe_with_exemplar(&self, value: f64) {
        self.cell().observe_with_exemplar(value);
    }
    /// Records one observation with an exemplar linking to the given span
    /// (one observation in 64 of each bucket, the first included).
    pub fn observe_with_span(&self, value: f64, trace_id: TraceId, span_id: SpanId) {
        self.cell().observe_with_span(value, trace_id, span_id);
    }
    /// Starts a timer that records the elapsed seconds when dropped, as
    /// [`Histogram::observe`] does (exemplar included).
    pub fn start_timer(&self) -> HistogramTimer<'_> {
        HistogramTimer {
            cell: self.cell(),
            start: Instant::now(),
        }
    }
    /// Reads the buckets, sum and exemplars.
    pub fn snapshot(&self) -> HistogramSnapshot {
        self.cell().snapshot()
    }
}

impl Metric for Histogram {
    fn desc(&self) -> &MetricDesc {
        &self.desc
    }
    fn visit(&self, f: &mut dyn FnMut(&[&str], SeriesValue<'_>)) {
        f(&[], SeriesValue::Histogram(&self.cell().snapshot()));
    }
}

/// Records the seconds since it was created into a histogram when dropped.
#[must_use = "the timer records when dropped: bind it, e.g. `let _timer = H.start_timer();`"]
#[derive(Debug)]
pub struct HistogramTimer<'a> {
    cell: &'a HistogramCell,
    start: Instant,
}

impl Drop for HistogramTimer<'_> {
    fn drop(&mut self) {
        self.cell.observe(self.start.elapsed().as_secs_f64());
    }
}

macro_rules! labelled {
    ($(#[$doc:meta])* $vec:ident, $handle:ident, $cell:ident, $kind:ident) => {
        $(#[$doc])*
        pub struct $vec<const N: usize> {
            desc: MetricDesc,
            family: Family<$cell>,
        }

        impl<const N: usize> $vec<N> {
            /// A labelled metric described by `desc`, whose label count must be `N`.
            pub const fn new(desc: MetricDesc) -> Self {
                expect_kind(&desc, MetricKind::$kind, N);
                $vec { desc, family: Family::new() }
            }

            /// The handle of the series with these label values (in the
            /// declared order), created on first use. Keep it: using it
            /// again costs one atomic operation, no lookup.
            pub fn labels(&self, values: [&str; N]) -> $handle {
                $handle(self.family.get_or_create(&self.desc, &values))
            }

            /// How many label sets are kept (not counting the overflow series).
            pub fn series_count(&self) -> usize {
                self.family.len()
            }
        }

        impl<const N: usize> std::fmt::Debug for $vec<N> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($vec)).field("name", &self.desc.name).finish_non_exhaustive()
            }
        }

        /// A kept handle to one series of a labelled metric.
        #[derive(Debug, Clone)]
        pub struct $handle(Arc<$cell>);
    };
}

labelled!(
    /// A counter with `N` labels.
    CounterVec, CounterHandle, CounterCell, Counter
);
labelled!(
    /// A gauge with `N` labels.
    GaugeVec, GaugeHandle, GaugeCell, Gauge
);
labelled!(
    /// A histogram with `N` labels.
    HistogramVec, HistogramHandle, HistogramCell, Histogram
);

impl<const N: usize> Metric for CounterVec<N> {
    fn desc(&self) -> &MetricDesc {
        &self.desc
    }
    fn visit(&self, f: &mut dyn FnMut(&[&str], SeriesValue<'_>)) {
        self.family.for_each(&self.desc, |labels, cell| {
            f(labels, SeriesValue::Counter(cell.get(), cell.exemplar()))
        });
    }
}

impl<const N: usize> Metric for GaugeVec<N> {
    fn desc(&self) -> &MetricDesc {
        &self.desc
    }
    fn visit(&self, f: &mut dyn FnMut(&[&str], SeriesValue<'_>)) {
        self.family.for_each(&self.desc, |labels, cell| {
            f(labels, SeriesValue::Gauge(cell.get()))
        });
    }
}

impl<const N: usize> Metric for HistogramVec<N> {
    fn desc(&self) -> &MetricDesc {
        &self.desc
    }
    fn visit(&self, f: &mut dyn FnMut(&[&str], SeriesValue<'_>)) {
        self.family.for_each(&self.desc, |labels, cell| {
            f(labels, SeriesValue::Histogram(&cell.snapshot()))
        });
    }
}

impl CounterHandle {
    /// Adds one; inside a sampled span, one increment in 64 links it as
    /// exemplar (see [exemplars](crate::metrics#exemplars)).
    #[inline]
    pub fn inc(&self) {
        self.0.inc_by(1);
    }
    /// Adds one, with an exemplar linking to the given span (kept for one
    /// increment in 64, and the first).
    #[inline]
    pub fn inc_with_span(&self, trace_id: TraceId, span_id: SpanId) {
        self.0.inc_with_span(trace_id, span_id);
    }
    /// Adds `n`; inside a sampled span, about one call in 64 links it as
    /// exemplar (see [exemplars](crate::metrics#exemplars)).
    #[inline]
    pub fn inc_by(&self, n: u64) {
        self.0.inc_by(n);
    }
    /// Adds `n`, and links the current span as exemplar when it is sampled,
    /// on every call: for a rare event whose latest occurrence is the one
    /// to link. [`CounterHandle::inc_by`] links one call in 64.
    pub fn inc_by_with_exemplar(&self, n: u64) {
        self.0.inc_by_with_exemplar(n);
    }
    /// The current value.
    pub fn get(&self) -> u64 {
        self.0.get()
    }
}

impl GaugeHandle {
    /// Sets the value.
    #[inline]
    pub fn set(&self, value: f64) {
        self.0.set(value);
    }
    /// Adds `delta` (negative to subtract).
    #[inline]
    pub fn add(&self, delta: f64) {
        self.0.add(delta);
    }
    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        self.0.add(1.0);
    }
    /// Subtracts one.
    #[inline]
    pub fn dec(&self) {
        self.0.add(-1.0);
    }
    /// The current value.
    pub fn get(&self) -> f64 {
        self.0.get()
    }
}

impl HistogramHandle {
    /// Records one observation; inside a sampled span, one observation in
    /// 64 of its bucket links it as exemplar (see
    /// [exemplars](crate::metrics#exemplars)). A NaN is ignored: it has no
    /// bucket, and would make the sum NaN for good.
    #[inline]
    pub fn observe(&self, value: f64) {
        self.0.observe(value);
    }
    /// Records one observation, linking the current span as the bucket's
    /// exemplar when it is sampled, on every call.
    /// [`HistogramHandle::observe`] links one observation in 64 of each
    /// bucket.
    pub fn observe_with_exemplar(&self, value: f64) {
        self.0.observe_with_exemplar(value);
    }
    /// Records one observation with an exemplar linking to the given span
    /// (one observation in 64 of each bucket, the first included).
    pub fn observe_with_span(&self, value: f64, trace_id: TraceId, span_id: SpanId) {
        self.0.observe_with_span(value, trace_id, span_id);
    }
    /// Starts a timer that records the elapsed seconds when dropped, as
    /// [`HistogramHandle::observe`] does (exemplar included).
    pub fn start_timer(&self) -> HistogramTimer<'_> {
        HistogramTimer {
            cell: &self.0,
            start: Instant::now(),
        }
    }
    /// Reads the buckets, sum and exemplars.
    pub fn snapshot(&self) -> HistogramSnapshot {
        self.0.snapshot()
    }
}
