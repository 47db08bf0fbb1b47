//! Metrics pushed over OTLP (`metrics.otlp_enabled`) reach a real collector
//! (rotel), over gRPC and over HTTP/protobuf: a labelled counter, a gauge and
//! a histogram declared here arrive with their values, attributes, bounds and
//! counts, under the service's resource, on the interval and once more at
//! shutdown; an exemplar recorded inside a sampled span carries its trace id.

use o11y_test_support as common;

use std::time::Duration;

use common::scenario::{o11y_child, report, reported};
use o11y::metrics::{CounterVec, Gauge, HistogramVec, MetricDesc};
use serde_json::{Value, json};

static ORDERS: CounterVec<2> = CounterVec::new(
    MetricDesc::counter("otlp_test_orders_total", "Orders placed").labels(&["status", "method"]),
);
static QUEUE_DEPTH: Gauge = Gauge::new(MetricDesc::gauge("otlp_test_queue_depth", "Jobs waiting"));
static CHECKOUT: HistogramVec<1> = HistogramVec::new(
    MetricDesc::histogram("otlp_test_checkout_duration_seconds", "Checkout latency")
        .unit("seconds")
        .buckets(&[0.1, 0.5, 1.0])
        .labels(&["route"]),
);
o11y::register_metric!(ORDERS);
o11y::register_metric!(QUEUE_DEPTH);
o11y::register_metric!(CHECKOUT);

/// The data points named `name`, oldest first.
fn points<'a>(metrics: &'a [Value], name: &str) -> Vec<&'a Value> {
    let mut found: Vec<&Value> = metrics.iter().filter(|m| m["name"] == name).collect();
    found.sort_by_key(|m| m["time_unix_nano"].as_u64());
    found
}

/// The latest data point named `name` whose attributes are `attributes`.
fn latest<'a>(metrics: &'a [Value], name: &str, attributes: &Value) -> &'a Value {
    points(metrics, name)
        .into_iter()
        .rfind(|m| &m["attributes"] == attributes)
        .unwrap_or_else(|| panic!("no {name} point with attributes {attributes}"))
}

fn has_point(metrics: &[Value], name: &str, attributes: &Value, value: i64) -> bool {
    points(metrics, name)
        .iter()
        .any(|m| &m["attributes"] == attributes && m["value"] == value)
}

fn metrics_reach_rotel(
    test_name: &str,
    protocol: &str,
    endpoint: impl Fn(&common::Rotel) -> String,
) {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    let card = json!({"status": "success", "method": "card"});
    let output = o11y_child(test_name)
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint(&rotel))
        .env("O11Y_TRACING_OTLP_PROTOCOL", protocol)
        .env("O11Y_METRICS_OTLP_ENABLED", "true")
        .env("O11Y_METRICS_OTLP_INTERVAL", "1s")
        .run(|| {
            let guard = o11y::init().expect("init");
            let card_ok = ORDERS.labels(["success", "card"]);
            card_ok.inc_by(3);
            ORDERS.labels(["failure", "cash"]).inc();
            QUEUE_DEPTH.set(4.5);
            let checkout = CHECKOUT.labels(["/checkout"]);
            for seconds in [0.05, 0.3, 0.3, 2.0] {
                checkout.observe(seconds);
            }
            tracing::info_span!("checkout").in_scope(|| {
                let ids = o11y::trace::current_span_ids().expect("inside a span");
                assert!(ids.sampled, "the dev profile samples everything");
                report(
                    "span",
                    json!({ "trace_id": ids.trace_id, "span_id": ids.span_id }),
                );
                checkout.observe_with_exemplar(0.7);
                card_ok.inc_by_with_exemplar(2);
            });

            // The periodic push (every second here) arrives while the
            // process is still running, with the values so far.
            rotel.wait_for_metrics(Duration::from_secs(10), |metrics| {
                has_point(metrics, "otlp_test_orders_total", &card, 5)
            });

            // The push at shutdown carries what happened since.
            card_ok.inc();
            drop(guard);
        });
    let span = reported(&output, "span");

    let metrics = rotel.wait_for_metrics(Duration::from_secs(10), |metrics| {
        has_point(metrics, "otlp_test_orders_total", &card, 6)
    });

    let orders = latest(&metrics, "otlp_test_orders_total", &card);
    assert_eq!(orders["type"], "sum");
    assert_eq!(orders["is_monotonic"], true);
    assert_eq!(orders["temporality"], "cumulative");
    assert_eq!(orders["description"], "Orders placed");
    assert_eq!(orders["resource"]["service.name"], test_name);
    assert_eq!(orders["scope"], "o11y");
    let counter_exemplar = &orders["exemplars"][0];
    assert_eq!(counter_exemplar["trace_id"], span["trace_id"], "{orders}");
    assert_eq!(counter_exemplar["span_id"], span["span_id"]);
    assert_eq!(counter_exemplar["value"], 2);

    let cash = latest(
        &metrics,
        "otlp_test_orders_total",
        &json!({"status": "failure", "method": "cash"}),
    );
    assert_eq!(cash["value"], 1);

    // Cumulative points of one process share their start, which is before
    // every point's time.
    let starts: Vec<u64> = points(&metrics, "otlp_test_orders_total")
        .iter()
        .map(|m| m["start_time_unix_nano"].as_u64().unwrap())
        .collect();
    assert!(starts.len() >= 2, "an interval push and the shutdown push");
    assert!(
        starts.iter().all(|s| *s == starts[0] && *s > 0),
        "{starts:?}"
    );
    assert!(orders["time_unix_nano"].as_u64().unwrap() > starts[0]);

    let depth = latest(&metrics, "otlp_test_queue_depth", &json!({}));
    assert_eq!(depth["type"], "gauge");
    assert_eq!(depth["value"], 4.5);
    assert_eq!(depth["description"], "Jobs waiting");

    let checkout = latest(
        &metrics,
        "otlp_test_checkout_duration_seconds",
        &json!({"route": "/checkout"}),
    );
    assert_eq!(checkout["type"], "histogram");
    assert_eq!(checkout["temporality"], "cumulative");
    assert_eq!(checkout["unit"], "s");
    assert_eq!(checkout["explicit_bounds"], json!([0.1, 0.5, 1.0]));
    assert_eq!(
        checkout["bucket_counts"],
        json!([1, 2, 1, 1]),
        "per bucket, +Inf last"
    );
    assert_eq!(checkout["count"], 5);
    let sum = checkout["sum"].as_f64().unwrap();
    assert!((sum - 3.35).abs() < 1e-9, "sum {sum}");
    let exemplars = checkout["exemplars"].as_array().unwrap();
    assert_eq!(exemplars.len(), 1, "{checkout}");
    assert_eq!(exemplars[0]["trace_id"], span["trace_id"]);
    assert_eq!(exemplars[0]["span_id"], span["span_id"]);
    assert_eq!(exemplars[0]["value"], 0.7);

    // The runtime's own metrics travel too.
    let build_info = points(&metrics, "o11y_build_info");
    assert_eq!(
        build_info.last().expect("o11y_build_info")["attributes"]["service_name"],
        test_name
    );
}

#[test]
fn metrics_reach_rotel_over_grpc() {
    metrics_reach_rotel(
        "metrics_reach_rotel_over_grpc",
        "grpc",
        common::Rotel::grpc_endpoint,
    );
}

#[test]
fn metrics_reach_rotel_over_http() {
    metrics_reach_rotel(
        "metrics_reach_rotel_over_http",
        "http",
        common::Rotel::http_endpoint,
    );
}

#[test]
fn a_failed_push_is_counted_and_reported() {
    let closed = format!("http://127.0.0.1:{}", common::free_port());
    let output = o11y_child("a_failed_push_is_counted_and_reported")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &closed)
        .env("O11Y_TRACING_OTLP_PROTOCOL", "http")
        .env("O11Y_METRICS_OTLP_ENABLED", "true")
        .env("O11Y_METRICS_OTLP_INTERVAL", "1s")
        .run(|| {
            let _guard = o11y::init().expect("init");
            common::wait_until(
                Duration::from_secs(10),
                || o11y::export::stats().metric_export_errors,
                |errors| *errors >= 1,
                |errors| format!("{errors} failed pushes counted"),
            );
            let text = o11y::metrics::render(o11y::metrics::Format::Prometheus);
            let line = text
                .lines()
                .find(|l| l.starts_with("o11y_metric_export_errors_total "))
                .expect("the error counter is exposed");
            report("line", json!(line));
        });
    let line = reported(&output, "line");
    let count: u64 = line
        .as_str()
        .unwrap()
        .rsplit(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(count >= 1, "{line}");
    assert!(
        output.stderr.contains(&format!(
            "o11y: pushing metrics to {closed}/v1/metrics failed"
        )),
        "{}",
        output.combined()
    );
}

#[test]
fn metrics_otlp_without_an_endpoint_fails_init() {
    o11y_child("metrics_otlp_without_an_endpoint_fails_init")
        .env("O11Y_METRICS_OTLP_ENABLED", "true")
        .run(|| {
            let error = o11y::init().expect_err("no endpoint").to_string();
            assert!(
                error.contains(
                    "metrics.otlp_enabled is true but no OTLP endpoint is configured \
                     (set tracing.otlp_endpoint, OTEL_EXPORTER_OTLP_ENDPOINT or \
                     OTEL_EXPORTER_OTLP_METRICS_ENDPOINT)"
                ),
                "{error}"
            );
        });
}
