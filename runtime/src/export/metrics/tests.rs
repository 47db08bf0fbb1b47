use opentelemetry::trace::{SpanId, TraceId};

use super::*;
use crate::metrics::{Counter, CounterVec, GaugeVec, HistogramVec};

static JOBS: CounterVec<2> = CounterVec::new(
    MetricDesc::counter("push_test_jobs_total", "Jobs done").labels(&["queue", "result"]),
);
static DEPTH: GaugeVec<1> =
    GaugeVec::new(MetricDesc::gauge("push_test_depth", "Jobs waiting").labels(&["queue"]));
static LATENCY: HistogramVec<1> = HistogramVec::new(
    MetricDesc::histogram("push_test_latency_seconds", "Job latency")
        .unit("seconds")
        .buckets(&[0.1, 1.0])
        .labels(&["queue"]),
);
static UNUSED: CounterVec<1> =
    CounterVec::new(MetricDesc::counter("push_test_unused_total", "Never used").labels(&["x"]));
static PLAIN: Counter = Counter::new(MetricDesc::counter(
    "push_test_plain_total",
    "Never used either",
));

fn request() -> ExportMetricsServiceRequest {
    let resource = PbResource {
        attributes: Vec::new(),
        dropped_attributes_count: 0,
        entity_refs: Vec::new(),
    };
    build_request(
        &[&JOBS, &DEPTH, &LATENCY, &UNUSED, &PLAIN],
        resource,
        String::new(),
        10,
        20,
    )
}

fn attrs(point_attributes: &[KeyValue]) -> Vec<(String, String)> {
    point_attributes
        .iter()
        .map(|kv| match &kv.value {
            Some(AnyValue {
                value: Some(any_value::Value::StringValue(v)),
            }) => (kv.key.clone(), v.clone()),
            other => panic!("not a string attribute: {other:?}"),
        })
        .collect()
}

#[test]
fn every_kind_maps_to_its_otlp_shape() {
    JOBS.labels(["mail", "ok"]).inc_by(3);
    DEPTH.labels(["mail"]).set(2.5);
    let latency = LATENCY.labels(["mail"]);
    let trace_id = TraceId::from(0x0af7651916cd43dd8448eb211c80319c_u128);
    let span_id = SpanId::from(0xb7ad6b7169203331_u64);
    latency.observe(0.05);
    latency.observe_with_span(0.5, trace_id, span_id);
    latency.observe(5.0);

    let request = request();
    let scope = &request.resource_metrics[0].scope_metrics[0];
    assert_eq!(scope.scope.as_ref().unwrap().name, "o11y");
    let names: Vec<&str> = scope.metrics.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "push_test_jobs_total",
            "push_test_depth",
            "push_test_latency_seconds",
            "push_test_plain_total"
        ],
        "a labelled metric with no series is left out; a plain one is there with 0"
    );

    let Some(pb::metric::Data::Sum(sum)) = &scope.metrics[0].data else {
        panic!("a counter is a Sum")
    };
    assert!(sum.is_monotonic);
    assert_eq!(
        sum.aggregation_temporality,
        pb::AggregationTemporality::Cumulative as i32
    );
    let point = &sum.data_points[0];
    assert_eq!(point.value, Some(pb::number_data_point::Value::AsInt(3)));
    assert_eq!(
        attrs(&point.attributes),
        [
            ("queue".into(), "mail".into()),
            ("result".into(), "ok".into())
        ]
    );
    assert_eq!((point.start_time_unix_nano, point.time_unix_nano), (10, 20));
    assert_eq!(scope.metrics[0].description, "Jobs done");

    let Some(pb::metric::Data::Gauge(gauge)) = &scope.metrics[1].data else {
        panic!("a gauge is a Gauge")
    };
    assert_eq!(
        gauge.data_points[0].value,
        Some(pb::number_data_point::Value::AsDouble(2.5))
    );

    let histogram_metric = &scope.metrics[2];
    assert_eq!(histogram_metric.unit, "s");
    let Some(pb::metric::Data::Histogram(histogram)) = &histogram_metric.data else {
        panic!("a Histogram")
    };
    assert_eq!(
        histogram.aggregation_temporality,
        pb::AggregationTemporality::Cumulative as i32
    );
    let point = &histogram.data_points[0];
    assert_eq!(point.explicit_bounds, [0.1, 1.0]);
    assert_eq!(point.bucket_counts, [1, 1, 1], "per bucket, not cumulative");
    assert_eq!(point.count, 3);
    assert_eq!(point.sum, Some(5.55));
    assert_eq!(point.start_time_unix_nano, 10);
    assert_eq!(point.exemplars.len(), 1);
    let exemplar = &point.exemplars[0];
    assert_eq!(exemplar.trace_id, trace_id.to_bytes());
    assert_eq!(exemplar.span_id, span_id.to_bytes());
    assert_eq!(exemplar.value, Some(pb::exemplar::Value::AsDouble(0.5)));

    let Some(pb::metric::Data::Sum(plain)) = &scope.metrics[3].data else {
        panic!("a Sum")
    };
    assert_eq!(
        plain.data_points[0].value,
        Some(pb::number_data_point::Value::AsInt(0))
    );
    assert!(plain.data_points[0].attributes.is_empty());
}

#[test]
fn the_request_round_trips_through_protobuf() {
    let request = request();
    let decoded = ExportMetricsServiceRequest::decode(request.encode_to_vec().as_slice()).unwrap();
    assert_eq!(decoded, request);
}

#[test]
fn units_become_ucum() {
    assert_eq!(ucum("seconds"), "s");
    assert_eq!(ucum("bytes"), "By");
    assert_eq!(ucum("requests"), "requests");
}
