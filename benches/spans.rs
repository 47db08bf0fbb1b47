//! The span pipeline against the standard stack, side by side in one run:
//! a span around a trivial body through o11y's layer (sampled out, and
//! recorded into an in-process sink exporter) and through
//! `tracing-opentelemetry` + the OpenTelemetry SDK (sampler AlwaysOff, and
//! AlwaysOn with a batch processor into the same kind of sink).
//!
//! ```text
//! cargo bench --bench spans
//! ```

use std::hint::black_box;

mod common;

use common::{o11y_dispatch, otel_dispatch};
use criterion::{Criterion, criterion_group, criterion_main};
use opentelemetry_sdk::trace::Sampler;
use tracing::Dispatch;

#[inline(never)]
fn work(x: u64) -> u64 {
    black_box(x).wrapping_mul(31)
}

#[tracing::instrument(level = "info", skip_all)]
fn instrumented(x: u64) -> u64 {
    work(x)
}

fn spans(c: &mut Criterion) {
    let mut group = c.benchmark_group("span_pipeline");
    group.bench_function("bare", |b| b.iter(|| work(black_box(7))));

    let registry = Dispatch::new(tracing_subscriber::registry());
    tracing::dispatcher::with_default(&registry, || {
        group.bench_function("registry_only", |b| b.iter(|| instrumented(black_box(7))));
    });

    let (dispatch, _guard) = o11y_dispatch(true, 0.0);
    tracing::dispatcher::with_default(&dispatch, || {
        group.bench_function("o11y_sampled_out", |b| {
            b.iter(|| instrumented(black_box(7)))
        });
    });
    let (dispatch, _guard) = o11y_dispatch(true, 1.0);
    tracing::dispatcher::with_default(&dispatch, || {
        group.bench_function("o11y_recorded", |b| b.iter(|| instrumented(black_box(7))));
    });

    let (dispatch, _provider) = otel_dispatch(Sampler::AlwaysOff);
    tracing::dispatcher::with_default(&dispatch, || {
        group.bench_function("otel_always_off", |b| b.iter(|| instrumented(black_box(7))));
    });
    let (dispatch, _provider) = otel_dispatch(Sampler::AlwaysOn);
    tracing::dispatcher::with_default(&dispatch, || {
        group.bench_function("otel_recorded", |b| b.iter(|| instrumented(black_box(7))));
    });
    group.finish();
}

criterion_group!(benches, spans);
criterion_main!(benches);
