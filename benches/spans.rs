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
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{Criterion, criterion_group, criterion_main};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider, SpanData, SpanExporter};
use tracing::Dispatch;
use tracing_subscriber::layer::SubscriberExt;

/// Counts what it is given and keeps nothing: the cost measured is the
/// pipeline's, not a network's.
#[derive(Debug, Clone, Default)]
struct Sink(Arc<AtomicU64>);

impl SpanExporter for Sink {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.0.fetch_add(batch.len() as u64, Ordering::Relaxed);
        Ok(())
    }
}

#[inline(never)]
fn work(x: u64) -> u64 {
    black_box(x).wrapping_mul(31)
}

#[tracing::instrument(level = "info", skip_all)]
fn instrumented(x: u64) -> u64 {
    work(x)
}

fn o11y_dispatch(sample_rate: f64) -> (Dispatch, o11y::Guard) {
    let config = o11y::Config::builder()
        .env_vars(Vec::<(String, String)>::new())
        .no_config_file()
        .profile(o11y::config::Profile::Prod)
        .log_level("info")
        .log_file_enabled(false)
        .sample_rate(sample_rate)
        .parent_based(true)
        .build()
        .expect("valid config");
    let (layer, guard) = o11y::Setup::new(config)
        .with_span_exporter(Sink::default())
        .into_layer()
        .expect("o11y layer");
    (
        Dispatch::new(tracing_subscriber::registry().with(layer)),
        guard,
    )
}

fn otel_dispatch(sampler: Sampler) -> (Dispatch, SdkTracerProvider) {
    let provider = SdkTracerProvider::builder()
        .with_sampler(sampler)
        .with_batch_exporter(Sink::default())
        .build();
    let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("bench"));
    (
        Dispatch::new(tracing_subscriber::registry().with(layer)),
        provider,
    )
}

fn spans(c: &mut Criterion) {
    let mut group = c.benchmark_group("span_pipeline");
    group.bench_function("bare", |b| b.iter(|| work(black_box(7))));

    let registry = Dispatch::new(tracing_subscriber::registry());
    tracing::dispatcher::with_default(&registry, || {
        group.bench_function("registry_only", |b| b.iter(|| instrumented(black_box(7))));
    });

    let (dispatch, _guard) = o11y_dispatch(0.0);
    tracing::dispatcher::with_default(&dispatch, || {
        group.bench_function("o11y_sampled_out", |b| {
            b.iter(|| instrumented(black_box(7)))
        });
    });
    let (dispatch, _guard) = o11y_dispatch(1.0);
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
