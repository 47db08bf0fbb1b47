//! What `#[observe]` costs per call, beside the standard stack, in one
//! criterion run (group `observe`). Every case calls the same trivial
//! `#[inline(never)]` body.
//!
//! ```text
//! cargo bench --bench overhead
//! bash scripts/bench-overhead.sh   # the same, then the ratios against the bars
//! ```
//!
//! The o11y cases install o11y's layer in a scoped dispatcher (not a global
//! one) so that each case gets its own configuration; spans that are
//! recorded go through the real pipeline into an in-process sink exporter.

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

mod common;

use common::{o11y_dispatch, o11y_tail_dispatch, otel_dispatch};
use criterion::{Criterion, criterion_group, criterion_main};
use opentelemetry_sdk::trace::Sampler;
use tracing::Dispatch;

struct DiscardReporter;

impl fastrace::collector::Reporter for DiscardReporter {
    fn report(&mut self, spans: Vec<fastrace::collector::SpanRecord>) {
        black_box(spans);
    }
}

#[inline(never)]
fn work(x: u64) -> u64 {
    black_box(x).wrapping_mul(31)
}

#[o11y::observe]
fn observed(x: u64) -> u64 {
    work(x)
}

#[o11y::observe]
async fn observed_async(x: u64) -> u64 {
    work(x)
}

#[tracing::instrument(skip_all)]
fn instrumented(x: u64) -> u64 {
    work(x)
}

#[fastrace::trace]
fn traced(x: u64) -> u64 {
    work(x)
}

/// Polls a future that completes at once (the async case has no I/O).
fn run_ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => unreachable!("the benchmarked future never waits"),
    }
}

/// The work a metrics-only call cannot avoid: the clock at both ends, and
/// a cached counter and histogram of prometheus-client.
struct Floor {
    counter: prometheus_client::metrics::counter::Counter,
    histogram: prometheus_client::metrics::histogram::Histogram,
}

impl Floor {
    fn new() -> Self {
        let buckets = o11y::metrics::DEFAULT_SECONDS_BUCKETS.iter().copied();
        Floor {
            counter: Default::default(),
            histogram: prometheus_client::metrics::histogram::Histogram::new(buckets),
        }
    }

    #[inline(never)]
    fn call(&self, x: u64) -> u64 {
        let start = Instant::now();
        let result = work(x);
        let elapsed = Instant::now().duration_since(start);
        self.counter.inc();
        self.histogram.observe(elapsed.as_secs_f64());
        result
    }
}

/// Calls the fastrace-traced function `iters` times under roots of
/// [`FASTRACE_BATCH`] calls each. fastrace keeps a thread's local spans in a
/// queue of 10,240 until the local parent is dropped and silently discards
/// the rest, so one root held over the whole benchmark would time calls that
/// record nothing; a root per batch has every span reported, at a root's
/// cost spread over the batch.
fn fastrace_batches(iters: u64) -> Duration {
    let start = Instant::now();
    let mut left = iters;
    while left > 0 {
        let batch = left.min(FASTRACE_BATCH);
        let root = fastrace::Span::root("bench", fastrace::collector::SpanContext::random());
        {
            let _parent = root.set_local_parent();
            for _ in 0..batch {
                black_box(traced(black_box(7)));
            }
        }
        drop(root);
        left -= batch;
    }
    start.elapsed()
}

/// Calls per fastrace root: well under its local queue of 10,240 spans.
const FASTRACE_BATCH: u64 = 1_000;

/// `threads` threads call `f` `iters` times each, at once; the time is the
/// slowest thread's, so the figure is the per-call cost under contention.
fn contended(threads: usize, iters: u64, dispatch: &Dispatch, f: fn(u64) -> u64) -> Duration {
    let barrier = Arc::new(std::sync::Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let barrier = barrier.clone();
            let dispatch = dispatch.clone();
            std::thread::spawn(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    barrier.wait();
                    let start = Instant::now();
                    for i in 0..iters {
                        black_box(f(black_box(i)));
                    }
                    start.elapsed()
                })
            })
        })
        .collect();
    handles
        .into_iter()
        .map(|h| h.join().expect("bench thread"))
        .max()
        .unwrap_or_default()
}

fn observe(c: &mut Criterion) {
    let mut group = c.benchmark_group("observe");

    group.bench_function("bare", |b| b.iter(|| work(black_box(7))));

    // Before any o11y layer exists: the flags word is 0.
    group.bench_function("observe_off", |b| b.iter(|| observed(black_box(7))));

    let (dispatch, _guard) = o11y_dispatch(false, 0.0);
    tracing::dispatcher::with_default(&dispatch, || {
        group.bench_function("observe_metrics_only", |b| {
            b.iter(|| observed(black_box(7)))
        });
    });
    group.bench_function("observe_metrics_only_2_threads", |b| {
        b.iter_custom(|iters| contended(2, iters, &dispatch, observed))
    });
    drop((dispatch, _guard));

    let (dispatch, _guard) = o11y_dispatch(true, 0.0);
    tracing::dispatcher::with_default(&dispatch, || {
        group.bench_function("observe_sampled_out", |b| b.iter(|| observed(black_box(7))));
    });
    drop((dispatch, _guard));

    let (dispatch, _guard) = o11y_dispatch(true, 1.0);
    tracing::dispatcher::with_default(&dispatch, || {
        group.bench_function("observe_recorded", |b| b.iter(|| observed(black_box(7))));
        group.bench_function("observe_recorded_async", |b| {
            b.iter(|| run_ready(observed_async(black_box(7))))
        });
    });
    drop((dispatch, _guard));

    // Tail rules on (prod's), not head-sampled, fast and successful: the
    // call is recorded and held, then dropped with its trace.
    let (dispatch, _guard) = o11y_tail_dispatch(0.0);
    tracing::dispatcher::with_default(&dispatch, || {
        group.bench_function("observe_tail_dropped", |b| {
            b.iter(|| observed(black_box(7)))
        });
    });
    drop((dispatch, _guard));

    let (dispatch, _provider) = otel_dispatch(Sampler::AlwaysOff);
    tracing::dispatcher::with_default(&dispatch, || {
        group.bench_function("instrument_otel_off", |b| {
            b.iter(|| instrumented(black_box(7)))
        });
    });
    let (dispatch, _provider) = otel_dispatch(Sampler::AlwaysOn);
    tracing::dispatcher::with_default(&dispatch, || {
        group.bench_function("instrument_otel_recorded", |b| {
            b.iter(|| instrumented(black_box(7)))
        });
    });

    // Its collector drains each thread's command channel (10,240 entries)
    // once per interval and drops what overflows: at the default second a
    // fast batch loop fills it, so drain often enough that nothing is lost.
    let config = fastrace::collector::Config::default().report_interval(Duration::from_millis(10));
    fastrace::set_reporter(DiscardReporter, config);
    group.bench_function("fastrace_recorded", |b| b.iter_custom(fastrace_batches));
    fastrace::flush();

    let floor = Floor::new();
    group.bench_function("metrics_floor", |b| b.iter(|| floor.call(black_box(7))));
    group.finish();
}

criterion_group!(benches, observe);
criterion_main!(benches);
