//! Today's standard stack: tower-http's `TraceLayer` (span and response
//! event at INFO), tracing-subscriber JSON lines through tracing-appender's
//! non-blocking file writer, tracing-opentelemetry with an OTLP gRPC batch
//! exporter (parent-based ratio sampler), axum-prometheus, and an
//! `#[instrument]` handler.
//!
//! Environment: `BENCH_LOG_FILE` (the JSON log, required),
//! `BENCH_SAMPLE_RATE` (default 0.01), `OTEL_EXPORTER_OTLP_ENDPOINT` (read
//! by the exporter; default localhost:4317), `OTEL_SERVICE_NAME`.

use std::path::PathBuf;

use axum::extract::Path;
use axum::routing::get;
use axum::{Json, Router};
use axum_prometheus::PrometheusMetricLayer;
use o11y_bench_http::{Order, order, report_requests, runtime, serve};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, fmt};

#[tracing::instrument(skip_all, fields(order_id = id))]
async fn get_order(Path(id): Path<u64>) -> Json<Order> {
    Json(order(id))
}

fn main() {
    let log_file = PathBuf::from(std::env::var("BENCH_LOG_FILE").expect("BENCH_LOG_FILE"));
    let rate: f64 = std::env::var("BENCH_SAMPLE_RATE")
        .map(|r| r.parse().expect("BENCH_SAMPLE_RATE is a number"))
        .unwrap_or(0.01);
    let service = std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| "bench-standard".into());
    let runtime = runtime();
    let provider = runtime.block_on(async {
        // The tonic channel's worker lives on this runtime.
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .build()
            .expect("OTLP exporter");
        SdkTracerProvider::builder()
            .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
                rate,
            ))))
            .with_resource(Resource::builder().with_service_name(service).build())
            .with_batch_exporter(exporter)
            .build()
    });
    let (writer, writer_guard) = tracing_appender::non_blocking(tracing_appender::rolling::never(
        log_file.parent().expect("a directory"),
        log_file.file_name().expect("a file name"),
    ));
    tracing_subscriber::registry()
        .with(EnvFilter::new("info"))
        .with(fmt::layer().json().with_writer(writer))
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("bench-standard")))
        .init();

    runtime.block_on(async {
        let (prometheus_layer, handle) = PrometheusMetricLayer::pair();
        let app = Router::new()
            .route("/orders/{id}", get(get_order))
            .route("/metrics", get(move || async move { handle.render() }))
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                    .on_response(DefaultOnResponse::new().level(Level::INFO)),
            )
            .layer(prometheus_layer);
        serve(app).await;
    });
    if let Err(e) = provider.shutdown() {
        eprintln!("bench-server: tracer provider shutdown: {e}");
    }
    drop(runtime);
    drop(writer_guard);
    report_requests();
}
