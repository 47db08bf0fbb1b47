//! Spans reach a real OTLP collector (rotel), over gRPC and over HTTP, in one
//! trace with the right parent/child links and resource attributes.

mod common;

use std::time::Duration;

use common::scenario::{o11y_child, report, reported, span_named};
use serde_json::json;

#[tracing::instrument]
fn price(order_id: u64) -> f64 {
    tracing::info!("pricing");
    let ids = o11y::trace::current_span_ids().expect("inside a span");
    report(
        "price",
        json!({ "trace_id": ids.trace_id, "span_id": ids.span_id }),
    );
    9.99 * order_id as f64
}

/// The scenario both protocols run: a server-kind span with a user's
/// `#[tracing::instrument]` function called inside it.
fn checkout() {
    let span = tracing::info_span!("checkout", otel.kind = "server", order_id = 7_u64);
    let _entered = span.enter();
    let ids = o11y::trace::current_span_ids().expect("inside a span");
    report(
        "checkout",
        json!({ "trace_id": ids.trace_id, "span_id": ids.span_id, "sampled": ids.sampled }),
    );
    price(7);
}

/// Runs `checkout` in a child exporting to rotel as `destination`'s
/// variables say, and checks what rotel received.
fn spans_reach_rotel(
    test_name: &str,
    destination: impl Fn(&common::Rotel) -> [(&'static str, String); 2],
) {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    let mut child = o11y_child(test_name);
    for (var, value) in destination(&rotel) {
        child = child.env(var, value);
    }
    let output = child
        .env("O11Y_SERVICE_VERSION", "1.2.3")
        .env("OTEL_RESOURCE_ATTRIBUTES", "team=payments,region=eu-west")
        .run(|| {
            let guard = o11y::init().expect("init");
            report("pid", json!(std::process::id()));
            checkout();
            drop(guard);
        });
    let checkout_ids = reported(&output, "checkout");
    let price_ids = reported(&output, "price");
    let pid = reported(&output, "pid");
    assert_eq!(
        checkout_ids["sampled"], true,
        "the dev profile samples everything"
    );

    let spans = rotel.wait_for_spans(Duration::from_secs(10), |spans| spans.len() >= 2);
    let outer = span_named(&spans, "checkout");
    let inner = span_named(&spans, "price");

    assert_eq!(outer["trace_id"], checkout_ids["trace_id"]);
    assert_eq!(outer["span_id"], checkout_ids["span_id"]);
    assert_eq!(outer["parent_span_id"], "", "checkout is a root span");
    assert_eq!(outer["kind"], "server");
    assert_eq!(outer["attributes"]["order_id"], 7);

    assert_eq!(inner["trace_id"], outer["trace_id"], "one trace");
    assert_eq!(
        inner["parent_span_id"], outer["span_id"],
        "the instrumented fn is a child of checkout"
    );
    assert_eq!(inner["span_id"], price_ids["span_id"]);
    assert_eq!(inner["kind"], "internal");
    assert_eq!(
        inner["attributes"]["order_id"], 7,
        "#[instrument] records its arguments"
    );
    assert_eq!(
        inner["scope"], "otlp_export",
        "the scope is the span's target"
    );
    assert!(
        inner["attributes"]["code.file.path"]
            .as_str()
            .unwrap()
            .ends_with("otlp_export.rs")
    );

    for span in [outer, inner] {
        let resource = &span["resource"];
        assert_eq!(resource["service.name"], test_name);
        assert_eq!(resource["service.version"], "1.2.3");
        assert_eq!(resource["deployment.environment.name"], "dev");
        assert_eq!(resource["process.pid"], pid);
        assert_eq!(resource["team"], "payments");
        assert_eq!(resource["region"], "eu-west");
        let host = resource["host.name"].as_str().expect("host.name");
        assert!(!host.is_empty());
        assert_eq!(resource["service.instance.id"], format!("{host}:{pid}"));
    }
}

#[test]
fn spans_reach_rotel_over_grpc() {
    spans_reach_rotel("spans_reach_rotel_over_grpc", |rotel| {
        [
            ("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint()),
            ("O11Y_TRACING_OTLP_PROTOCOL", "grpc".into()),
        ]
    });
}

#[test]
fn spans_reach_rotel_over_http() {
    spans_reach_rotel("spans_reach_rotel_over_http", |rotel| {
        [
            ("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.http_endpoint()),
            ("O11Y_TRACING_OTLP_PROTOCOL", "http".into()),
        ]
    });
}

/// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` alone: the whole URL, used as written.
#[test]
fn spans_reach_rotel_at_their_own_endpoint() {
    spans_reach_rotel("spans_reach_rotel_at_their_own_endpoint", |rotel| {
        [
            (
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                format!("{}/v1/traces", rotel.http_endpoint()),
            ),
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf".into()),
        ]
    });
}

#[test]
fn errors_mark_the_span_and_warnings_become_events() {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    o11y_child("errors_mark_the_span_and_warnings_become_events")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
        .run(|| {
            let guard = o11y::init().expect("init");
            tracing::info_span!("flaky").in_scope(|| {
                tracing::warn!(attempt = 2, "retrying");
                tracing::error!("gave up");
            });
            tracing::info_span!("fine").in_scope(|| tracing::info!("nothing to see"));
            drop(guard);
        });
    let spans = rotel.wait_for_spans(Duration::from_secs(10), |spans| spans.len() >= 2);
    let flaky = span_named(&spans, "flaky");
    assert_eq!(flaky["status_code"], "error");
    assert_eq!(flaky["status_message"], "gave up");
    let events = flaky["events"].as_array().expect("events");
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0]["name"], "retrying");
    assert_eq!(events[0]["attributes"]["attempt"], 2);
    assert_eq!(events[0]["attributes"]["level"], "WARN");
    let fine = span_named(&spans, "fine");
    assert_eq!(fine["status_code"], "unset");
    assert_eq!(
        fine["events"].as_array().map(Vec::len),
        Some(0),
        "info events stay in the logs"
    );
}

#[test]
fn sampling_rate_zero_sends_no_span_but_logs_keep_ids() {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    let output = o11y_child("sampling_rate_zero_sends_no_span_but_logs_keep_ids")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
        .env("O11Y_TRACING_SAMPLE_RATE", "0")
        .run(|| {
            let guard = o11y::init().expect("init");
            tracing::info_span!("unsampled").in_scope(|| {
                let ids = o11y::trace::current_span_ids().expect("inside a span");
                report(
                    "ids",
                    json!({ "trace_id": ids.trace_id, "sampled": ids.sampled }),
                );
                tracing::info!("still correlated");
            });
            drop(guard);
        });
    let ids = reported(&output, "ids");
    assert_eq!(ids["sampled"], false);
    let lines = common::scenario::json_lines(&output);
    let line = common::scenario::log_line(&lines, "still correlated");
    assert_eq!(line["trace_id"], ids["trace_id"]);
    // rotel batches for ~200 ms; the child flushed on exit, so 1 s is plenty.
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        rotel.spans().is_empty(),
        "no span is sent at rate 0: {:?}",
        rotel.spans()
    );
}
