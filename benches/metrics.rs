//! o11y's metrics against the peers a Rust service would otherwise use,
//! side by side in one run:
//! - `prometheus-client` (0.25), used as its docs show: a `Family` keyed by a
//!   derived `EncodeLabelSet` struct, handles cloned out of it, `encode`;
//! - the `metrics` facade (0.24) with `metrics-exporter-prometheus`'s
//!   recorder installed as the global recorder (its real storage: a sharded
//!   registry of atomics; no HTTP listener), called as its docs recommend,
//!   `counter!("name", "a" => "x", "b" => "y").increment(1)`.
//!
//! Groups: `counter_inc` and `histogram_observe` (a cached handle, no
//! subscriber), `in_spans` (the same plain calls under o11y's subscriber:
//! outside any span, in a sampled-out span, in a sampled one, and the
//! explicit `_with_exemplar` calls there), `labels_lookup` (find an
//! existing two-label series, then increment it), `render_10k` (10,000
//! counter series to text).
//!
//! ```text
//! cargo bench --bench metrics -- --warm-up-time 1 --measurement-time 3
//! ```
//!
//! With `METRICS_CASE=<inc|observe>/<none|no_span|sampled_out|sampled>`
//! the binary instead makes `METRICS_CALLS` (64,000 by default) plain
//! calls of a cached handle through `one_inc` / `one_observe`, for counting
//! instructions per call, which unlike time are the same from run to run:
//! with no subscriber at all (`none`), or under o11y's subscriber (tracing
//! on) outside any span, in a sampled-out span or in a sampled one.
//!
//! ```text
//! cargo bench --bench metrics --no-run
//! METRICS_CASE=inc/sampled valgrind --tool=callgrind --toggle-collect='*one_inc*' \
//!     target/release/deps/metrics-<hash>
//! ```

use std::hint::black_box;

// Only the o11y dispatcher is used here.
#[allow(dead_code)]
mod common;

use common::o11y_dispatch;
use criterion::{Criterion, criterion_group};
use o11y::metrics::{
    CounterHandle, CounterVec, DEFAULT_SECONDS_BUCKETS, Format, HistogramHandle, HistogramVec,
    Metric, MetricDesc, render_into,
};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter as PcCounter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram as PcHistogram;
use prometheus_client::registry::Registry;

static REQUESTS: CounterVec<2> = CounterVec::new(
    MetricDesc::counter("bench_requests_total", "Requests").labels(&["status", "method"]),
);
static LATENCY: HistogramVec<1> = HistogramVec::new(
    MetricDesc::histogram("bench_latency_seconds", "Latency")
        .unit("seconds")
        .labels(&["route"]),
);
static BIG: CounterVec<2> = CounterVec::new(
    MetricDesc::counter("bench_big_requests_total", "Requests by path and status")
        .labels(&["path", "status"])
        .series_cap(10_000),
);

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PaymentLabels {
    status: String,
    method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    path: String,
    status: String,
}

fn payment_labels() -> PaymentLabels {
    PaymentLabels {
        status: "success".to_owned(),
        method: "card".to_owned(),
    }
}

fn install_metrics_recorder() {
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    metrics::set_global_recorder(recorder).expect("the only recorder of this process");
}

fn counter_inc(c: &mut Criterion) {
    let mut group = c.benchmark_group("counter_inc");
    let o11y = REQUESTS.labels(["success", "card"]);
    group.bench_function("o11y cached handle", |b| b.iter(|| black_box(&o11y).inc()));

    let family = Family::<PaymentLabels, PcCounter>::default();
    let prometheus = family.get_or_create(&payment_labels()).clone();
    group.bench_function("prometheus-client cached", |b| {
        b.iter(|| black_box(&prometheus).inc())
    });

    group.bench_function("metrics counter! 2 labels", |b| {
        b.iter(|| {
            metrics::counter!("bench_metrics_total", "status" => "success", "method" => "card")
                .increment(1)
        })
    });
    let metrics_handle =
        metrics::counter!("bench_metrics_total", "status" => "success", "method" => "card");
    group.bench_function("metrics cached handle", |b| {
        b.iter(|| black_box(&metrics_handle).increment(1))
    });
    group.finish();
}

fn histogram_observe(c: &mut Criterion) {
    let mut group = c.benchmark_group("histogram_observe");
    let o11y = LATENCY.labels(["/checkout"]);
    group.bench_function("o11y cached handle", |b| {
        b.iter(|| black_box(&o11y).observe(black_box(0.3)))
    });
    let prometheus = PcHistogram::new(DEFAULT_SECONDS_BUCKETS.iter().copied());
    group.bench_function("prometheus-client cached", |b| {
        b.iter(|| black_box(&prometheus).observe(black_box(0.3)))
    });
    group.finish();
}

/// The plain calls under the subscriber `init()` installs (prod profile,
/// tracing on, in a scoped dispatcher): outside any span, inside a span
/// that is sampled out, inside a sampled one; and the calls that take an
/// exemplar on every call, inside the sampled span.
fn in_spans(c: &mut Criterion) {
    let mut group = c.benchmark_group("in_spans");
    let counter = REQUESTS.labels(["success", "card"]);
    let histogram = LATENCY.labels(["/checkout"]);
    for (case, sample_rate, enter) in [
        ("no span", 1.0, false),
        ("sampled-out span", 0.0, true),
        ("sampled span", 1.0, true),
    ] {
        let (dispatch, guard) = o11y_dispatch(true, sample_rate);
        tracing::dispatcher::with_default(&dispatch, || {
            let span = if enter {
                tracing::info_span!("request")
            } else {
                tracing::Span::none()
            };
            let _entered = span.enter();
            group.bench_function(format!("counter inc, {case}"), |b| {
                b.iter(|| black_box(&counter).inc())
            });
            group.bench_function(format!("histogram observe, {case}"), |b| {
                b.iter(|| black_box(&histogram).observe(black_box(0.3)))
            });
            if case == "sampled span" {
                group.bench_function("counter inc_by_with_exemplar, sampled span", |b| {
                    b.iter(|| black_box(&counter).inc_by_with_exemplar(1))
                });
                group.bench_function("histogram observe_with_exemplar, sampled span", |b| {
                    b.iter(|| black_box(&histogram).observe_with_exemplar(black_box(0.3)))
                });
            }
        });
        drop((dispatch, guard));
    }
    group.finish();
}

fn labels_lookup(c: &mut Criterion) {
    let mut group = c.benchmark_group("labels_lookup");
    REQUESTS.labels(["success", "card"]);
    group.bench_function("o11y labels()", |b| {
        b.iter(|| REQUESTS.labels(black_box(["success", "card"])).inc())
    });

    let family = Family::<PaymentLabels, PcCounter>::default();
    let labels = payment_labels();
    drop(family.get_or_create(&labels));
    group.bench_function("prometheus-client Family::get_or_create", |b| {
        b.iter(|| family.get_or_create(black_box(&labels)).inc())
    });

    group.bench_function("metrics counter! 2 labels", |b| {
        b.iter(|| {
            metrics::counter!("bench_metrics_total", "status" => "success", "method" => "card")
                .increment(1)
        })
    });
    group.finish();
}

/// 100 paths × 100 statuses, with values of a few digits.
fn series() -> impl Iterator<Item = (String, String, u64)> {
    (0..100).flat_map(|i| {
        (0..100).map(move |j| {
            (
                format!("/api/v1/items/{i}"),
                (200 + j).to_string(),
                (i * 7919 + j * 104_729) as u64,
            )
        })
    })
}

fn render_10k(c: &mut Criterion) {
    let mut group = c.benchmark_group("render_10k");
    for (path, status, value) in series() {
        BIG.labels([&path, &status]).inc_by(value);
    }
    assert_eq!(BIG.series_count(), 10_000);

    let mut registry = Registry::default();
    let family = Family::<RequestLabels, PcCounter>::default();
    registry.register(
        "bench_big_requests",
        "Requests by path and status",
        family.clone(),
    );
    for (path, status, value) in series() {
        family
            .get_or_create(&RequestLabels { path, status })
            .inc_by(value);
    }

    let metrics: [&dyn Metric; 1] = [&BIG];
    let mut out = String::new();
    render_into(&metrics, Format::OpenMetrics, &mut out);
    let o11y_len = out.len();
    out.clear();
    prometheus_client::encoding::text::encode(&mut out, &registry).expect("encode");
    eprintln!(
        "render_10k: o11y OpenMetrics {o11y_len} bytes, prometheus-client {} bytes",
        out.len()
    );

    group.bench_function("o11y OpenMetrics", |b| {
        b.iter(|| {
            out.clear();
            render_into(&metrics, Format::OpenMetrics, &mut out);
            black_box(out.len())
        })
    });
    group.bench_function("o11y Prometheus text", |b| {
        b.iter(|| {
            out.clear();
            render_into(&metrics, Format::Prometheus, &mut out);
            black_box(out.len())
        })
    });
    group.bench_function("prometheus-client encode", |b| {
        b.iter(|| {
            out.clear();
            prometheus_client::encoding::text::encode(&mut out, &registry).expect("encode");
            black_box(out.len())
        })
    });
    group.finish();
}

fn all(c: &mut Criterion) {
    install_metrics_recorder();
    counter_inc(c);
    histogram_observe(c);
    in_spans(c);
    labels_lookup(c);
    render_10k(c);
}

/// One plain increment, kept out of line for `valgrind --toggle-collect`.
#[inline(never)]
fn one_inc(counter: &CounterHandle) {
    black_box(counter).inc();
}

/// One plain observation, kept out of line for `valgrind --toggle-collect`.
#[inline(never)]
fn one_observe(histogram: &HistogramHandle) {
    black_box(histogram).observe(black_box(0.3));
}

/// The `METRICS_CASE` mode; see the module documentation.
fn count_calls(wanted: &str) {
    let calls: u64 = std::env::var("METRICS_CALLS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(64_000);
    let usage = "METRICS_CASE=<inc|observe>/<none|no_span|sampled_out|sampled>";
    let (call, context) = wanted.split_once('/').expect(usage);
    let counter = REQUESTS.labels(["success", "card"]);
    let histogram = LATENCY.labels(["/checkout"]);
    let run = || {
        for _ in 0..calls {
            match call {
                "inc" => one_inc(&counter),
                "observe" => one_observe(&histogram),
                _ => panic!("{usage}"),
            }
        }
    };
    let sample_rate = match context {
        "none" => return run(),
        "no_span" | "sampled" => 1.0,
        "sampled_out" => 0.0,
        _ => panic!("{usage}"),
    };
    let (dispatch, _guard) = o11y_dispatch(true, sample_rate);
    tracing::dispatcher::with_default(&dispatch, || {
        let span = if context == "no_span" {
            tracing::Span::none()
        } else {
            tracing::info_span!("request")
        };
        let _entered = span.enter();
        run();
    });
}

criterion_group!(benches, all);

fn main() {
    match std::env::var("METRICS_CASE") {
        Ok(case) => count_calls(&case),
        Err(_) => {
            benches();
            Criterion::default().configure_from_args().final_summary();
        }
    }
}
