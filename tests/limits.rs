//! OpenTelemetry's attribute limits through the public API, set by their
//! standard variables: a span keeps at most `OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT`
//! attributes, `OTEL_SPAN_EVENT_COUNT_LIMIT` events and
//! `OTEL_SPAN_LINK_COUNT_LIMIT` links, and a text value (of a span
//! attribute, a span event's attribute, a log line's field) at most
//! `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT` characters, cut at a character
//! boundary. The dropped counts the OTLP request carries are checked where
//! it is written (`export::wire`'s tests).
//!
//! Tests that call `o11y::init()` run their body in a child process (see
//! `tests/support`).
#![cfg(not(feature = "off"))]

use o11y_test_support as common;

use std::time::Duration;

use common::scenario::{json_lines, log_line, o11y_child};

/// Eleven characters, fifteen bytes: a byte cut at 8 would split `ö`.
const LONG: &str = "héllo wörld";
const CUT: &str = "héllo wö";

#[test]
fn spans_and_log_lines_keep_to_the_limits() {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    let output = o11y_child("spans_and_log_lines_keep_to_the_limits")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
        .env("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "8")
        .env("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "3")
        .env("OTEL_SPAN_EVENT_COUNT_LIMIT", "2")
        .env("OTEL_SPAN_LINK_COUNT_LIMIT", "1")
        .run(|| {
            let guard = o11y::init().expect("init");
            let first = tracing::info_span!("first");
            let second = tracing::info_span!("second");
            let busy = tracing::info_span!("busy", a = LONG, b = 2_u64, c = 3_u64, d = 4_u64);
            busy.follows_from(&first);
            busy.follows_from(&second);
            busy.in_scope(|| {
                for n in 0..4_u64 {
                    tracing::warn!(n, note = LONG, "slow item");
                }
                tracing::info!(note = LONG, "the long field");
            });
            drop((busy, first, second));
            drop(guard);
        });
    let lines = json_lines(&output);
    let line = log_line(&lines, "the long field");
    assert_eq!(line["note"], CUT, "{line}");
    assert_eq!(line["a"], CUT, "a span's field, as lines carry it: {line}");

    let spans = rotel.wait_for_spans(Duration::from_secs(10), |spans| {
        spans.iter().any(|s| s["name"] == "busy")
    });
    let busy = spans.iter().find(|s| s["name"] == "busy").expect("busy");
    let attributes = busy["attributes"].as_object().expect("attributes");
    // The code location and the sampling reason are o11y's, outside the limit.
    let own: Vec<&String> = attributes
        .keys()
        .filter(|key| !key.starts_with("code.") && *key != "o11y.sampling.reason")
        .collect();
    assert_eq!(own, ["a", "b", "c"], "the first three: {busy}");
    assert_eq!(attributes["a"], CUT, "{busy}");
    let events = busy["events"].as_array().expect("events");
    assert_eq!(events.len(), 2, "{busy}");
    assert_eq!(events[0]["attributes"]["note"], CUT, "{busy}");
    assert_eq!(busy["links"].as_array().map(Vec::len), Some(1), "{busy}");
}
