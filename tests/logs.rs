//! Log lines: JSON lines correlated with the spans a real collector received,
//! the fields of enclosing spans, the context API, `log`-crate records, the
//! JSON file sink, the console format, and OTLP log export.

use o11y_test_support as common;

use std::time::Duration;

use common::scenario::{json_lines, log_line, o11y_child, report, reported, span_named};
use serde_json::json;

#[test]
fn json_lines_carry_the_ids_of_the_span_rotel_received() {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    let output = o11y_child("json_lines_carry_the_ids_of_the_span_rotel_received")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
        .run(|| {
            let guard = o11y::init().expect("init");
            let outer = tracing::info_span!("handle_request", request_id = "r-1");
            outer.in_scope(|| {
                tracing::info_span!("load_order", order_id = 42_u64).in_scope(|| {
                    tracing::info!(rows = 3_u64, "order loaded");
                });
            });
            drop(outer); // a span is exported when it closes: before the guard goes
            tracing::info!("outside any span");
            drop(guard);
        });
    let lines = json_lines(&output);
    let line = log_line(&lines, "order loaded");
    assert_eq!(line["level"], "info");
    assert_eq!(line["logger"], "logs");
    assert!(line["file"].as_str().unwrap().ends_with("logs.rs"));
    assert!(line["line"].as_u64().unwrap() > 0);
    assert!(
        line["timestamp"].as_str().unwrap().ends_with('Z'),
        "UTC: {line}"
    );
    assert_eq!(line["request_id"], "r-1", "outer span field flattened");
    assert_eq!(line["order_id"], 42, "inner span field flattened");
    assert_eq!(line["rows"], 3, "event field");

    let spans = rotel.wait_for_spans(Duration::from_secs(10), |spans| spans.len() >= 2);
    let inner = span_named(&spans, "load_order");
    assert_eq!(line["trace_id"], inner["trace_id"]);
    assert_eq!(line["span_id"], inner["span_id"]);

    let outside = log_line(&lines, "outside any span");
    assert!(
        outside.get("trace_id").is_none() && outside.get("span_id").is_none(),
        "{outside}"
    );
}

#[test]
fn context_api_reaches_spans_and_logs_as_asked() {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    let output = o11y_child("context_api_reaches_spans_and_logs_as_asked")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
        .run(|| {
            let guard = o11y::init().expect("init");
            tracing::info_span!("checkout").in_scope(|| {
                o11y::tag("customer.tier", "gold");
                o11y::span_attribute("cart.size", 3_u32);
                o11y::log_context("request.path", String::from("/checkout"));
                tracing::info!("in the span");
                tracing::info_span!("charge").in_scope(|| tracing::info!("in a child span"));
            });
            // Outside any span the calls have nowhere to go, and must not panic.
            o11y::tag("orphan", true);
            tracing::info!("after the span");
            drop(guard);
        });
    let lines = json_lines(&output);
    for event in ["in the span", "in a child span"] {
        let line = log_line(&lines, event);
        assert_eq!(line["customer.tier"], "gold", "{line}");
        assert_eq!(line["request.path"], "/checkout", "{line}");
        assert!(
            line.get("cart.size").is_none(),
            "span_attribute stays off log lines: {line}"
        );
    }
    let after = log_line(&lines, "after the span");
    assert!(
        after.get("customer.tier").is_none() && after.get("orphan").is_none(),
        "{after}"
    );

    let spans = rotel.wait_for_spans(Duration::from_secs(10), |spans| spans.len() >= 2);
    let checkout = span_named(&spans, "checkout");
    assert_eq!(checkout["attributes"]["customer.tier"], "gold");
    assert_eq!(checkout["attributes"]["cart.size"], 3);
    assert!(
        checkout["attributes"].get("request.path").is_none(),
        "log_context stays off the span"
    );
}

#[test]
fn log_crate_records_are_captured_with_their_location() {
    let output = o11y_child("log_crate_records_are_captured_with_their_location").run(|| {
        let guard = o11y::init().expect("init");
        tracing::info_span!("legacy", component = "billing").in_scope(|| {
            log::warn!(target: "billing::legacy", "invoice {} is late", 17);
        });
        drop(guard);
    });
    let lines = json_lines(&output);
    let line = log_line(&lines, "invoice 17 is late");
    assert_eq!(line["level"], "warn");
    assert_eq!(line["logger"], "billing::legacy");
    assert!(
        line["file"].as_str().unwrap().ends_with("logs.rs"),
        "{line}"
    );
    assert_eq!(
        line["component"], "billing",
        "a log record inside a span gets its fields"
    );
    assert!(line.get("trace_id").is_some(), "and its ids: {line}");
    assert!(
        line.as_object()
            .unwrap()
            .keys()
            .all(|k| !k.starts_with("log.")),
        "{line}"
    );
}

/// A field whose `Debug` panics, then one that logs, then a field named
/// twice (written once, the last value): each event's fields are its own (the per-thread field collector keeps nothing from an event
/// that panicked half-way), and a line logged from inside a field's
/// `Debug`, while the collector is in use, is written too, with its own
/// fields, without disturbing the line being collected.
#[test]
fn each_line_carries_only_its_own_fields() {
    struct Panics;
    impl std::fmt::Debug for Panics {
        fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            panic!("a field's Debug panicked");
        }
    }
    struct Logs;
    impl std::fmt::Debug for Logs {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            tracing::info!("from inside a field");
            f.write_str("logged")
        }
    }
    let output = o11y_child("each_line_carries_only_its_own_fields").run(|| {
        let guard = o11y::init().expect("init");
        let panicked = std::panic::catch_unwind(|| {
            tracing::info!(order_id = 7, broken = ?Panics, "never written");
        });
        report("panicked", panicked.is_err().into());
        tracing::info!(note = ?Logs, "outer");
        tracing::info!(attempt = 1, attempt = 2, "twice");
        tracing::info!("after");
        drop(guard);
    });
    assert_eq!(reported(&output, "panicked"), true);
    let lines = json_lines(&output);
    let outer = log_line(&lines, "outer");
    assert_eq!(outer["note"], "logged");
    for key in ["order_id", "broken"] {
        assert!(outer.get(key).is_none(), "{key} leaked into {outer}");
    }
    assert_eq!(log_line(&lines, "twice")["attempt"], 2, "the last value");
    let twice = output
        .stdout
        .lines()
        .find(|l| l.contains("\"twice\""))
        .expect("the line");
    assert_eq!(twice.matches("\"attempt\"").count(), 1, "{twice}");
    let after = log_line(&lines, "after");
    for key in ["order_id", "broken", "note", "attempt"] {
        assert!(after.get(key).is_none(), "{key} leaked into {after}");
    }
    let inner = log_line(&lines, "from inside a field");
    assert!(inner.get("note").is_none(), "{inner}");
    assert!(
        lines.iter().all(|line| line["event"] != "never written"),
        "{lines:#?}"
    );
}

#[test]
fn the_file_sink_writes_json_lines() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("nested/dir/app.log");
    let output = o11y_child("the_file_sink_writes_json_lines")
        .env("O11Y_LOGGING_FORMAT", "console")
        .env("O11Y_LOGGING_FILE_ENABLED", "true")
        .env("O11Y_LOGGING_FILE_PATH", &path)
        .run(|| {
            let guard = o11y::init().expect("init");
            tracing::info_span!("job", job_id = 5_u64).in_scope(|| tracing::info!("to the file"));
            // Lines reach the file in batches: o11y::flush writes them now.
            o11y::flush(Duration::from_secs(5));
            let flushed =
                std::fs::read_to_string(std::env::var("O11Y_LOGGING_FILE_PATH").expect("the path"))
                    .expect("the log file exists");
            report("flushed", flushed.contains("to the file").into());
            tracing::info!("after the flush");
            drop(guard);
        });
    assert_eq!(
        reported(&output, "flushed"),
        true,
        "o11y::flush writes the waiting lines to the file"
    );
    assert!(
        json_lines(&output).is_empty(),
        "stdout is in console format"
    );
    assert!(
        output.stdout.contains("to the file job_id=5 trace_id="),
        "{}",
        output.stdout
    );
    let text = std::fs::read_to_string(&path).expect("the log file exists");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let line = log_line(&lines, "to the file");
    assert_eq!(line["job_id"], 5);
    assert!(line.get("trace_id").is_some());
    log_line(&lines, "after the flush"); // written when the guard dropped
}

#[test]
fn logs_reach_rotel_over_otlp_with_their_trace_context() {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    let output = o11y_child("logs_reach_rotel_over_otlp_with_their_trace_context")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.http_endpoint())
        .env("O11Y_TRACING_OTLP_PROTOCOL", "http")
        .env("O11Y_LOGGING_OTLP_ENABLED", "true")
        .run(|| {
            let guard = o11y::init().expect("init");
            tracing::info_span!("ship", carrier = "dhl", parcel = 7_i64).in_scope(|| {
                let ids = o11y::trace::current_span_ids().expect("inside a span");
                report(
                    "ids",
                    json!({ "trace_id": ids.trace_id, "span_id": ids.span_id }),
                );
                tracing::warn!(parcel = 12_i64, "parcel delayed");
            });
            drop(guard);
        });
    let ids = reported(&output, "ids");
    let logs = rotel.wait_for_logs(Duration::from_secs(10), |logs| {
        logs.iter().any(|log| log["body"] == "parcel delayed")
    });
    let record = logs
        .iter()
        .find(|log| log["body"] == "parcel delayed")
        .unwrap();
    assert_eq!(record["trace_id"], ids["trace_id"]);
    assert_eq!(record["span_id"], ids["span_id"]);
    assert_eq!(record["severity_text"], "WARN");
    assert_eq!(record["severity_number"], 13);
    assert_eq!(record["attributes"]["parcel"], 12, "the event's field wins");
    let keys = record["attribute_keys"].as_array().expect("attribute_keys");
    let parcels = keys.iter().filter(|key| *key == "parcel").count();
    assert_eq!(parcels, 1, "each key once, as in the JSON line: {keys:?}");
    assert_eq!(
        record["attributes"]["carrier"], "dhl",
        "span fields travel with the record"
    );
    assert_eq!(
        record["resource"]["service.name"],
        "logs_reach_rotel_over_otlp_with_their_trace_context"
    );
}
