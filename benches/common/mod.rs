//! What the benches share: the in-process sink exporter and the two
//! subscribers measured side by side (o11y's layer, and the standard
//! tracing-opentelemetry stack), each in a dispatcher of its own.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider, SpanData, SpanExporter};
use tracing::Dispatch;
use tracing_subscriber::layer::SubscriberExt;

/// Counts what it is given and keeps nothing: the cost measured is the
/// pipeline's, not a network's.
#[derive(Debug, Clone, Default)]
pub struct Sink(Arc<AtomicU64>);

impl SpanExporter for Sink {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.0.fetch_add(batch.len() as u64, Ordering::Relaxed);
        Ok(())
    }
}

/// The prod profile, without a log file and without anything from the
/// environment or a config file.
pub fn prod_config() -> o11y::config::ConfigBuilder {
    o11y::Config::builder()
        .env_vars(Vec::<(String, String)>::new())
        .no_config_file()
        .profile(o11y::config::Profile::Prod)
        .log_file_enabled(false)
}

/// The subscriber `init()` installs, in a dispatcher of its own,
/// configured like `prod` but with the given tracing switch and sample
/// rate and no tail rules (head sampling alone), exporting into a [`Sink`].
pub fn o11y_dispatch(tracing_enabled: bool, sample_rate: f64) -> (Dispatch, o11y::Guard) {
    o11y_dispatch_of(
        prod_config()
            .tracing_enabled(tracing_enabled)
            .sample_rate(sample_rate)
            .keep_errors(false)
            .keep_slower_than(None),
    )
}

/// [`o11y_dispatch`] with `prod`'s tail rules (every failing trace, and
/// every trace slower than 1 s, kept) at head rate `sample_rate`.
#[allow(dead_code)] // not every bench measures tail sampling
pub fn o11y_tail_dispatch(sample_rate: f64) -> (Dispatch, o11y::Guard) {
    o11y_dispatch_of(prod_config().sample_rate(sample_rate))
}

/// The subscriber `init()` installs, configured by `config`, in a
/// dispatcher of its own, exporting into a [`Sink`].
pub fn o11y_dispatch_of(config: o11y::config::ConfigBuilder) -> (Dispatch, o11y::Guard) {
    let config = config.build().expect("valid config");
    let (subscriber, guard) = o11y::Setup::new(config)
        .with_span_exporter(Sink::default())
        .into_subscriber()
        .expect("o11y subscriber");
    (Dispatch::new(subscriber), guard)
}

/// The standard stack: tracing-opentelemetry over the SDK with `sampler`
/// and a batch processor into a [`Sink`].
pub fn otel_dispatch(sampler: Sampler) -> (Dispatch, SdkTracerProvider) {
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
