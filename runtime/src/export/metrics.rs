//! OTLP metrics push (`metrics.otlp_enabled`): every registered metric,
//! read through [`Metric::visit`], sent as one OTLP
//! `ExportMetricsServiceRequest` to the tracing endpoint (same protocol,
//! gRPC or HTTP/protobuf at `<endpoint>/v1/metrics`), every
//! `metrics.otlp_interval`, and once more on flush and at shutdown. It runs
//! on the export thread's runtime; a periodic push is a task of its own, so
//! a slow collector never holds up span and log export.
//!
//! The SDK's metric data types cannot be built outside the SDK, so the
//! request is built from `opentelemetry-proto`'s generated types:
//! - a counter is a monotonic cumulative Sum with integer points;
//! - a gauge is a Gauge with double points;
//! - a histogram is a cumulative Histogram: explicit bounds, a count per
//!   bucket (not cumulative, `+Inf` last, as OTLP wants), sum and count;
//! - exemplars carry the trace and span ids of the span that recorded them;
//! - label values become attributes, the help text the description, and
//!   the unit its UCUM code (`seconds` → `s`, `bytes` → `By`);
//! - cumulative points start when the exporter started (`init()`, which
//!   runs first thing in `main`), and all points of a push share one time.
//!
//! Metric names are the Prometheus names, unchanged (`payments_total`), so
//! a series pushed here and the one scraped from `/metrics` are the same.
//!
//! Pushes go through the OTLP [`transport`] spans use: headers from
//! `OTEL_EXPORTER_OTLP_HEADERS` and `OTEL_EXPORTER_OTLP_METRICS_HEADERS`
//! (which wins), the timeout from `OTEL_EXPORTER_OTLP_METRICS_TIMEOUT` or
//! `OTEL_EXPORTER_OTLP_TIMEOUT` (10 s without either), uncompressed.
//!
//! A push that fails or times out counts in `o11y_metric_export_errors_total`
//! and is reported on stderr at most every 30 s. Nothing is retried: every
//! push carries the cumulative values, so the next one makes up for it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1 as pb;
use opentelemetry_proto::tonic::resource::v1::Resource as PbResource;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_sdk::Resource;
use prost::Message as _;
use tokio::task::JoinHandle;
use tokio::time::{Interval, MissedTickBehavior};

use super::transport::{self, Transport};
use super::wire::unix_nanos;
use crate::config::OtlpTarget;
use crate::metrics::own::METRIC_EXPORT_ERRORS;
use crate::metrics::{
    Exemplar, HistogramSnapshot, METRICS, Metric, MetricDesc, MetricKind, SeriesValue,
};
use crate::stderr_report::StderrReport;

/// A failed push is reported at most this often.
const ERROR_REPORT_INTERVAL: Duration = Duration::from_secs(30);

/// Pushes every registered metric to one OTLP endpoint.
pub(crate) struct MetricsExporter {
    transport: Transport,
    endpoint: String,
    resource: PbResource,
    schema_url: String,
    start_time_unix_nano: u64,
    interval: Duration,
    errors: Mutex<StderrReport>,
}

impl MetricsExporter {
    /// An exporter to `target`; must run inside the export thread's
    /// runtime, where the gRPC channel's background task lives.
    pub(crate) fn new(
        target: &OtlpTarget,
        resource: &Resource,
        interval: Duration,
    ) -> Result<Self, String> {
        let transport = Transport::new(target, transport::METRICS)?;
        let ResourceAttributesWithSchema {
            attributes,
            schema_url,
        } = resource.into();
        Ok(MetricsExporter {
            transport,
            endpoint: target.url.clone(),
            resource: PbResource {
                attributes: attributes.0,
                dropped_attributes_count: 0,
                entity_refs: Vec::new(),
            },
            schema_url: schema_url.unwrap_or_default(),
            start_time_unix_nano: unix_nanos(SystemTime::now()),
            // The configuration allows 1 s and more; a zero period would panic.
            interval: interval.max(Duration::from_millis(100)),
            errors: Mutex::new(StderrReport::every(ERROR_REPORT_INTERVAL)),
        })
    }

    /// The request for the current value of every registered metric.
    fn request(&self) -> ExportMetricsServiceRequest {
        let mut metrics: Vec<&dyn Metric> = METRICS.iter().map(|r| r.metric).collect();
        metrics.sort_by_key(|m| m.desc().name);
        build_request(
            &metrics,
            self.resource.clone(),
            self.schema_url.clone(),
            self.start_time_unix_nano,
            unix_nanos(SystemTime::now()),
        )
    }

    /// Pushes once; a failure is counted and reported, never returned.
    pub(crate) async fn push(&self) {
        // Within the transport's timeout.
        if let Err(error) = self.send(self.request()).await {
            METRIC_EXPORT_ERRORS.inc();
            self.report(&error);
        }
    }

    async fn send(&self, request: ExportMetricsServiceRequest) -> Result<(), String> {
        self.transport
            .send::<ExportMetricsServiceResponse>(request.encode_to_vec())
            .await
    }

    fn report(&self, error: &str) {
        self.errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .write(format_args!(
                "pushing metrics to {} failed: {error}; further failures are counted in \
                 o11y_metric_export_errors_total",
                self.endpoint
            ));
    }
}

/// The export loop's view of the push: a timer, and at most one push in
/// flight as a task of its own.
pub(crate) struct MetricsPush {
    exporter: Arc<MetricsExporter>,
    timer: Interval,
    in_flight: Option<JoinHandle<()>>,
}

impl MetricsPush {
    /// Schedules pushes every interval from now (the first one interval from now).
    pub(crate) fn new(exporter: MetricsExporter) -> Self {
        let interval = exporter.interval;
        let mut timer = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
        timer.set_missed_tick_behavior(MissedTickBehavior::Skip);
        MetricsPush {
            exporter: Arc::new(exporter),
            timer,
            in_flight: None,
        }
    }

    /// Waits for the next tick of `push`'s timer; never, without a push.
    pub(crate) async fn tick(push: &mut Option<MetricsPush>) {
        match push {
            Some(push) => {
                push.timer.tick().await;
            }
            None => std::future::pending().await,
        }
    }

    /// Starts a push in the background, unless the last one is still running.
    pub(crate) fn start(&mut self) {
        if self
            .in_flight
            .as_ref()
            .is_some_and(|task| !task.is_finished())
        {
            return;
        }
        let exporter = self.exporter.clone();
        self.in_flight = Some(tokio::spawn(async move { exporter.push().await }));
    }

    /// Pushes now and waits for it (after any push already in flight): for
    /// flush and shutdown.
    pub(crate) async fn push_now(&mut self) {
        if let Some(task) = self.in_flight.take() {
            let _ = task.await;
        }
        self.exporter.push().await;
    }
}

/// The request carrying `metrics`, in order; a labelled metric without any
/// series yet is left out.
pub(crate) fn build_request(
    metrics: &[&dyn Metric],
    resource: PbResource,
    schema_url: String,
    start_time_unix_nano: u64,
    time_unix_nano: u64,
) -> ExportMetricsServiceRequest {
    let times = Times {
        start: start_time_unix_nano,
        now: time_unix_nano,
    };
    let metrics = metrics
        .iter()
        .filter_map(|metric| to_proto(*metric, times))
        .collect();
    ExportMetricsServiceRequest {
        resource_metrics: vec![pb::ResourceMetrics {
            resource: Some(resource),
            scope_metrics: vec![pb::ScopeMetrics {
                scope: Some(InstrumentationScope {
                    name: "o11y".to_owned(),
                    version: env!("CARGO_PKG_VERSION").to_owned(),
                    attributes: Vec::new(),
                    dropped_attributes_count: 0,
                }),
                metrics,
                schema_url: String::new(),
            }],
            schema_url,
        }],
    }
}

#[derive(Clone, Copy)]
struct Times {
    start: u64,
    now: u64,
}

fn to_proto(metric: &dyn Metric, times: Times) -> Option<pb::Metric> {
    let desc = metric.desc();
    let cumulative = pb::AggregationTemporality::Cumulative as i32;
    let data = match desc.kind {
        MetricKind::Counter => {
            let mut data_points = Vec::new();
            metric.visit(&mut |labels, value| {
                if let SeriesValue::Counter(count, exemplar) = value {
                    data_points.push(pb::NumberDataPoint {
                        attributes: attributes(desc, labels),
                        start_time_unix_nano: times.start,
                        time_unix_nano: times.now,
                        exemplars: exemplar.iter().map(|e| to_exemplar(e, true)).collect(),
                        flags: 0,
                        value: Some(pb::number_data_point::Value::AsInt(saturating_i64(count))),
                    });
                }
            });
            (!data_points.is_empty()).then_some(pb::metric::Data::Sum(pb::Sum {
                data_points,
                aggregation_temporality: cumulative,
                is_monotonic: true,
            }))
        }
        MetricKind::Gauge => {
            let mut data_points = Vec::new();
            metric.visit(&mut |labels, value| {
                if let SeriesValue::Gauge(value) = value {
                    data_points.push(pb::NumberDataPoint {
                        attributes: attributes(desc, labels),
                        // A gauge has no start: OTLP ignores it.
                        start_time_unix_nano: 0,
                        time_unix_nano: times.now,
                        exemplars: Vec::new(),
                        flags: 0,
                        value: Some(pb::number_data_point::Value::AsDouble(value)),
                    });
                }
            });
            (!data_points.is_empty()).then_some(pb::metric::Data::Gauge(pb::Gauge { data_points }))
        }
        MetricKind::Histogram => {
            let mut data_points = Vec::new();
            metric.visit(&mut |labels, value| {
                if let SeriesValue::Histogram(snapshot) = value {
                    data_points.push(histogram_point(desc, labels, snapshot, times));
                }
            });
            (!data_points.is_empty()).then_some(pb::metric::Data::Histogram(pb::Histogram {
                data_points,
                aggregation_temporality: cumulative,
            }))
        }
    }?;
    Some(pb::Metric {
        name: desc.name.to_owned(),
        description: desc.help.to_owned(),
        unit: desc.unit.map(ucum).unwrap_or_default().to_owned(),
        metadata: Vec::new(),
        data: Some(data),
    })
}

fn histogram_point(
    desc: &MetricDesc,
    labels: &[&str],
    snapshot: &HistogramSnapshot,
    times: Times,
) -> pb::HistogramDataPoint {
    pb::HistogramDataPoint {
        attributes: attributes(desc, labels),
        start_time_unix_nano: times.start,
        time_unix_nano: times.now,
        count: snapshot.count(),
        sum: Some(snapshot.sum),
        bucket_counts: snapshot.counts.clone(),
        explicit_bounds: snapshot.bounds.to_vec(),
        exemplars: snapshot
            .exemplars
            .iter()
            .flatten()
            .map(|e| to_exemplar(e, false))
            .collect(),
        flags: 0,
        min: None,
        max: None,
    }
}

fn attributes(desc: &MetricDesc, values: &[&str]) -> Vec<KeyValue> {
    desc.labels
        .iter()
        .zip(values)
        .map(|(key, value)| KeyValue {
            key: (*key).to_owned(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue((*value).to_owned())),
            }),
            key_strindex: 0,
        })
        .collect()
}

fn to_exemplar(exemplar: &Exemplar, integer: bool) -> pb::Exemplar {
    let value = if integer {
        pb::exemplar::Value::AsInt(exemplar.value as i64)
    } else {
        pb::exemplar::Value::AsDouble(exemplar.value)
    };
    pb::Exemplar {
        filtered_attributes: Vec::new(),
        time_unix_nano: unix_nanos(exemplar.timestamp),
        span_id: exemplar.span_id.to_bytes().to_vec(),
        trace_id: exemplar.trace_id.to_bytes().to_vec(),
        value: Some(value),
    }
}

fn saturating_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// The UCUM code OTLP expects for a Prometheus unit suffix; other units pass
/// through as they are.
fn ucum(unit: &str) -> &str {
    match unit {
        "seconds" => "s",
        "milliseconds" => "ms",
        "microseconds" => "us",
        "nanoseconds" => "ns",
        "minutes" => "min",
        "hours" => "h",
        "days" => "d",
        "bytes" => "By",
        "kilobytes" => "kBy",
        "megabytes" => "MBy",
        "meters" => "m",
        "volts" => "V",
        "amperes" => "A",
        "joules" => "J",
        "watts" => "W",
        "grams" => "g",
        "celsius" => "Cel",
        "hertz" => "Hz",
        "ratio" => "1",
        "percent" => "%",
        other => other,
    }
}

#[cfg(test)]
mod tests;
