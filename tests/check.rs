//! `o11y check` against a real collector (rotel): a program started with
//! `O11Y_COMMAND=check` checks its set-up instead of running. With rotel
//! up, every finding is OK and the test span and log record it reports
//! acknowledged are in what rotel received, under the printed trace id
//! (over gRPC, over HTTP/protobuf from a program whose `init()` runs
//! inside a Tokio runtime, and in the `--json` document); with
//! nothing listening at the endpoint, an error names the endpoint and the
//! exit status is 1.
//!
//! The checks that need no collector (the catalog's lint, `--json` against
//! the text, `catalog`, usage errors) are the `check-app` fixture's tests.

use o11y_test_support as common;

use std::time::Duration;

use common::ChildOutput;
use common::scenario::o11y_child;
use serde_json::Value;

/// The child's program: `init()` runs the command and exits the process,
/// so it never returns.
fn program() {
    let _o11y = o11y::init();
    panic!("o11y::init() returned: O11Y_COMMAND=check did not run the check");
}

/// The same, with `init()` called inside a Tokio runtime, as an async
/// `main` calls it: the check exports on a runtime of its own.
fn async_program() {
    common::scenario::current_thread_runtime().block_on(async { program() });
}

/// The findings' lines of the text output (`  OK       …`).
fn findings(out: &ChildOutput) -> Vec<&str> {
    out.stdout
        .lines()
        .filter(|line| line.starts_with("  ") && line.len() > 11)
        .collect()
}

/// The one finding containing `text`.
fn finding<'a>(out: &'a ChildOutput, text: &str) -> &'a str {
    let found: Vec<&str> = findings(out)
        .into_iter()
        .filter(|line| line.contains(text))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one finding with {text:?}:\n{}",
        out.combined()
    );
    found[0]
}

/// Every finding OK, but for the warning of the `off` feature set, and the
/// counts say so.
fn assert_all_ok(out: &ChildOutput) {
    assert_eq!(out.status.code(), Some(0), "{}", out.combined());
    let off = cfg!(feature = "off");
    for line in findings(out) {
        let allowed = line.starts_with("  OK ") || (off && line.contains("feature `off`"));
        assert!(allowed, "not OK: {line}\n{}", out.combined());
    }
    let warnings = if off { "1 warning" } else { "0 warnings" };
    let summary = out.stdout.lines().last().unwrap_or_default();
    assert!(
        summary.ends_with(&format!(" OK, {warnings}, 0 errors")),
        "{summary:?}\n{}",
        out.combined()
    );
}

/// The trace id the line `test span exported to … (trace id X)` reports.
fn reported_trace_id(out: &ChildOutput, endpoint: &str) -> String {
    let line = finding(
        out,
        &format!("test span exported to {endpoint} and acknowledged by the collector"),
    );
    let id = line
        .rsplit_once("(trace id ")
        .and_then(|(_, rest)| rest.strip_suffix(')'))
        .unwrap_or_else(|| panic!("no trace id in {line:?}"));
    assert_eq!(id.len(), 32, "{line}");
    id.to_owned()
}

/// rotel received the test span (and, when `with_log`, the test log
/// record) of `trace_id`, from the service `service`.
fn assert_received(rotel: &common::Rotel, trace_id: &str, service: &str, with_log: bool) {
    let spans = rotel.wait_for_spans(Duration::from_secs(10), |spans| {
        spans.iter().any(|span| span["trace_id"] == trace_id)
    });
    let span = spans
        .iter()
        .find(|span| span["trace_id"] == trace_id)
        .unwrap();
    assert_eq!(span["name"], "o11y check", "{span}");
    assert_eq!(span["scope"], "o11y::check", "{span}");
    assert_eq!(span["attributes"]["o11y.check"], true, "{span}");
    assert_eq!(span["resource"]["service.name"], service, "{span}");
    if with_log {
        let logs = rotel.wait_for_logs(Duration::from_secs(10), |logs| {
            logs.iter().any(|log| log["trace_id"] == trace_id)
        });
        let log = logs.iter().find(|log| log["trace_id"] == trace_id).unwrap();
        assert_eq!(log["body"], "o11y check: test log record", "{log}");
        assert_eq!(log["span_id"], span["span_id"], "{log}");
        assert_eq!(log["resource"]["service.name"], service, "{log}");
    }
}

#[test]
fn check_over_grpc_is_all_ok_and_rotel_received_the_test_span_and_log_record() {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    let name = "check_over_grpc_is_all_ok_and_rotel_received_the_test_span_and_log_record";
    let out = o11y_child(name)
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
        .env("O11Y_LOGGING_OTLP_ENABLED", "true")
        .env("O11Y_COMMAND", "check")
        .allow_failure()
        .run(program);
    assert_all_ok(&out);
    let endpoint = rotel.grpc_endpoint();
    finding(
        &out,
        &format!("traces endpoint {endpoint} (grpc) is reachable (TCP connection in "),
    );
    finding(
        &out,
        &format!("logs endpoint {endpoint} (grpc) is reachable"),
    );
    let trace_id = reported_trace_id(&out, &endpoint);
    finding(
        &out,
        &format!(
            "test log record exported to {endpoint} and acknowledged by the collector \
             (trace id {trace_id})"
        ),
    );
    finding(
        &out,
        &format!("tracing.otlp_endpoint = {endpoint}  (env OTEL_EXPORTER_OTLP_ENDPOINT)"),
    );
    assert_received(&rotel, &trace_id, name, true);
}

#[test]
fn check_over_http_protobuf_inside_a_tokio_runtime_sends_the_test_span_to_v1_traces() {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    let name = "check_over_http_protobuf_inside_a_tokio_runtime_sends_the_test_span_to_v1_traces";
    let out = o11y_child(name)
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.http_endpoint())
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
        .env("O11Y_COMMAND", "check")
        .allow_failure()
        .run(async_program);
    assert_all_ok(&out);
    let traces = format!("{}/v1/traces", rotel.http_endpoint());
    finding(
        &out,
        &format!("traces endpoint {traces} (http/protobuf) is reachable"),
    );
    let trace_id = reported_trace_id(&out, &traces);
    assert_received(&rotel, &trace_id, name, false);
}

#[test]
fn check_json_carries_the_trace_id_rotel_received() {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    let name = "check_json_carries_the_trace_id_rotel_received";
    let out = o11y_child(name)
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
        .env("O11Y_COMMAND", "check")
        .env("O11Y_COMMAND_ARGS", "--json")
        .allow_failure()
        .run(program);
    assert_eq!(out.status.code(), Some(0), "{}", out.combined());
    let start = out.stdout.find('{').expect("a JSON document");
    let document: Value = serde_json::from_str(&out.stdout[start..])
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", out.combined()));
    assert_eq!(document["schema_version"], 1);
    assert_eq!(document["service"], name);
    assert_eq!(document["profile"], "dev");
    assert_eq!(document["summary"]["errors"], 0, "{document:#}");
    let trace_id = document["test_trace_id"].as_str().expect("a trace id");
    let otlp = document["sections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|section| section["name"] == "otlp")
        .unwrap();
    let exported = otlp["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|finding| finding["trace_id"] == trace_id)
        .unwrap_or_else(|| panic!("no finding with the trace id: {otlp:#}"));
    assert_eq!(exported["status"], "ok");
    assert_eq!(exported["signal"], "traces");
    assert_received(&rotel, trace_id, name, false);
}

#[test]
fn check_with_nothing_at_the_endpoint_names_it_and_exits_1() {
    let port = common::free_port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let out = o11y_child("check_with_nothing_at_the_endpoint_names_it_and_exits_1")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)
        .env("O11Y_COMMAND", "check")
        .allow_failure()
        .run(program);
    assert_eq!(out.status.code(), Some(1), "{}", out.combined());
    let error = finding(
        &out,
        &format!("traces endpoint {endpoint} (grpc) is not reachable: "),
    );
    assert!(error.starts_with("  ERROR "), "{error}");
    assert!(error.ends_with("nothing was sent to it"), "{error}");
    assert!(
        !out.stdout.contains("test span exported"),
        "{}",
        out.combined()
    );
    let summary = out.stdout.lines().last().unwrap_or_default();
    assert!(
        summary.ends_with(", 1 error"),
        "{summary:?}\n{}",
        out.combined()
    );
}
