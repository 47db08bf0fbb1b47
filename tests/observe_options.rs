//! `#[observe]` with sampling and its switches, through the public API and a
//! real collector (rotel): a sampled-out call is still counted, sends no span
//! and logs with the enclosing request's trace id; a sampled call's duration
//! carries an exemplar of the span rotel received; `name`, `level`,
//! `concurrency`, `metrics = false` and `span = false` do what they say.
// With the `off` feature, #[observe] returns the function untouched: what
// these tests check does not exist then; ui-tests/off covers that mode.
#![cfg(not(feature = "off"))]

use o11y_test_support as common;

use std::future::Future;
use std::time::Duration;

use common::exposition::{sample_value, samples};
use common::scenario::{json_lines, log_line, o11y_child, report, reported, span_named};
use serde_json::{Value, json};

const MODULE: &str = "observe_options";

// ---------------------------------------------------------------------------
// Helpers.

/// The value of `name{function, module=MODULE, extra...}`, if that series exists.
fn value(text: &str, name: &str, function: &str, extra: &[(&str, &str)]) -> Option<f64> {
    let mut wanted = vec![("function", function), ("module", MODULE)];
    wanted.extend_from_slice(extra);
    sample_value(text, name, &wanted)
}

fn calls(text: &str, function: &str, result: &str) -> Option<f64> {
    value(
        text,
        "function_calls_total",
        function,
        &[("result", result)],
    )
}

/// Every series in `text` that has a label `function="<function>"`.
fn series_with_function(text: &str, function: &str) -> Vec<String> {
    samples(text)
        .into_iter()
        .filter(|s| s.has_label("function", function))
        .map(|s| format!("{}{:?}", s.name, s.labels))
        .collect()
}

fn prometheus() -> Value {
    Value::from(o11y::metrics::render(o11y::metrics::Format::Prometheus))
}

fn fn_span(function: &str) -> String {
    format!("{MODULE}::{function}")
}

fn current_ids() -> Value {
    let ids = o11y::trace::current_span_ids().expect("inside a span");
    json!({ "trace_id": ids.trace_id, "span_id": ids.span_id, "sampled": ids.sampled })
}

// ---------------------------------------------------------------------------
// sampling

#[o11y::observe]
fn unsampled_step(n: u32) -> u32 {
    tracing::info!(n, "inside unsampled step");
    n
}

#[o11y::observe(fields(batch = n))]
fn unsampled_with_fields(n: u32) -> u32 {
    tracing::info!("inside unsampled fields");
    n
}

#[test]
fn sampled_out_calls_are_counted_send_no_span_and_log_with_the_request_ids() {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    let output =
        o11y_child("sampled_out_calls_are_counted_send_no_span_and_log_with_the_request_ids")
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
            .env("O11Y_TRACING_SAMPLE_RATE", "0")
            .run(|| {
                let guard = o11y::init().expect("init");
                tracing::info_span!("request").in_scope(|| {
                    report("request", current_ids());
                    assert_eq!(unsampled_step(1), 1);
                    assert_eq!(unsampled_with_fields(2), 2);
                });
                assert_eq!(unsampled_step(3), 3);
                report("prometheus", prometheus());
                report(
                    "openmetrics",
                    Value::from(o11y::metrics::render(o11y::metrics::Format::OpenMetrics)),
                );
                drop(guard);
            });
    let request = reported(&output, "request");
    assert_eq!(request["sampled"], false);
    let text = reported(&output, "prometheus");
    let text = text.as_str().unwrap();
    assert_eq!(calls(text, "unsampled_step", "ok"), Some(2.0), "{text}");
    assert_eq!(
        calls(text, "unsampled_with_fields", "ok"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        value(
            text,
            "function_calls_duration_seconds_count",
            "unsampled_step",
            &[]
        ),
        Some(2.0)
    );
    let open = reported(&output, "openmetrics");
    let exemplars: Vec<&str> = open
        .as_str()
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("function_calls_duration_seconds") && l.contains("trace_id="))
        .collect();
    assert!(
        exemplars.is_empty(),
        "no exemplar from an unsampled call: {exemplars:?}"
    );

    let lines = json_lines(&output);
    let in_request: Vec<&Value> = lines
        .iter()
        .filter(|l| l["event"] == "inside unsampled step" && l["n"] == 1)
        .collect();
    assert_eq!(in_request.len(), 1, "{lines:#?}");
    let in_request = in_request[0];
    assert_eq!(in_request["trace_id"], request["trace_id"], "{in_request}");
    assert_eq!(
        in_request["span_id"], request["span_id"],
        "a sampled-out call without fields opens no span: {in_request}"
    );
    let with_fields = log_line(&lines, "inside unsampled fields");
    assert_eq!(
        with_fields["batch"], 2,
        "fields reach log lines unsampled too"
    );
    assert_eq!(
        with_fields["trace_id"], request["trace_id"],
        "{with_fields}"
    );
    let outside: Vec<&Value> = lines
        .iter()
        .filter(|l| l["event"] == "inside unsampled step" && l["n"] == 3)
        .collect();
    assert_eq!(outside.len(), 1, "{lines:#?}");
    assert!(outside[0].get("trace_id").is_none(), "{}", outside[0]);

    // rotel batches for ~200 ms; the child flushed on exit, so 1 s is plenty.
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        rotel.spans().is_empty(),
        "no span at rate 0: {:?}",
        rotel.spans()
    );
}

#[o11y::observe]
fn exemplified(n: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(2));
    n + 1
}

#[test]
fn a_sampled_call_gives_its_duration_an_exemplar_of_the_exported_span() {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    let output = o11y_child("a_sampled_call_gives_its_duration_an_exemplar_of_the_exported_span")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
        .env("O11Y_TRACING_SAMPLE_RATE", "1.0")
        .run(|| {
            let guard = o11y::init().expect("init");
            assert_eq!(exemplified(1), 2);
            report(
                "openmetrics",
                Value::from(o11y::metrics::render(o11y::metrics::Format::OpenMetrics)),
            );
            drop(guard);
        });
    let open = reported(&output, "openmetrics");
    let prefix = format!(
        "function_calls_duration_seconds_bucket{{function=\"exemplified\",module=\"{MODULE}\","
    );
    let with_exemplar: Vec<&str> = open
        .as_str()
        .unwrap()
        .lines()
        .filter(|l| l.starts_with(&prefix) && l.contains(" # {"))
        .collect();
    assert_eq!(
        with_exemplar.len(),
        1,
        "one observation, one exemplar:\n{open}"
    );
    let exemplar = with_exemplar[0].split(" # {").nth(1).unwrap();
    let field = |key: &str| {
        let start = exemplar.find(&format!("{key}=\"")).expect(key) + key.len() + 2;
        exemplar[start..start + exemplar[start..].find('"').unwrap()].to_string()
    };
    let (trace_id, span_id) = (field("trace_id"), field("span_id"));

    let spans = rotel.wait_for_spans(Duration::from_secs(15), |spans| !spans.is_empty());
    let span = span_named(&spans, &fn_span("exemplified"));
    assert_eq!(span["trace_id"], trace_id.as_str(), "{}", with_exemplar[0]);
    assert_eq!(span["span_id"], span_id.as_str(), "{}", with_exemplar[0]);
}

// ---------------------------------------------------------------------------
// name, level, concurrency, metrics = false, span = false

#[o11y::observe(name = "checkout.custom")]
fn renamed() -> u8 {
    1
}

#[o11y::observe(level = "debug")]
fn chatty() -> u8 {
    tracing::info!("inside chatty");
    2
}

#[o11y::observe(level = "warn")]
fn loud() -> u8 {
    3
}

#[o11y::observe(concurrency)]
fn busy() -> u8 {
    let text = prometheus();
    let inside = value(
        text.as_str().unwrap(),
        "function_calls_concurrent",
        "busy",
        &[],
    );
    report("busy_inside", json!(inside));
    4
}

#[o11y::observe(concurrency)]
async fn busy_async(who: &'static str) -> u8 {
    tokio::task::yield_now().await;
    let text = prometheus();
    let inside = value(
        text.as_str().unwrap(),
        "function_calls_concurrent",
        "busy_async",
        &[],
    );
    report(&format!("busy_async_{who}"), json!(inside));
    tokio::task::yield_now().await;
    5
}

#[o11y::observe(concurrency)]
async fn busy_stuck() -> u8 {
    std::future::pending::<()>().await;
    0
}

#[o11y::observe(concurrency)]
fn busy_panics() -> u8 {
    panic!("busy and broken");
}

fn concurrent(function: &str) -> Option<f64> {
    value(
        prometheus().as_str().unwrap(),
        "function_calls_concurrent",
        function,
        &[],
    )
}

#[o11y::observe]
fn relaxed() -> u8 {
    6
}

#[o11y::observe(metrics = false)]
fn unmetered() -> u8 {
    7
}

#[derive(Debug)]
struct Rejected;

#[o11y::observe(span = false)]
fn spanless() -> Result<u8, Rejected> {
    tracing::info!("inside spanless");
    Err(Rejected)
}

#[test]
fn name_level_concurrency_metrics_and_span_switches() {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    let output = o11y_child("name_level_concurrency_metrics_and_span_switches")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
        .env("O11Y_LOGGING_LEVEL", "info")
        .run(|| {
            let guard = o11y::init().expect("init");
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            assert_eq!(renamed(), 1);
            assert_eq!(chatty(), 2);
            assert_eq!(loud(), 3);
            assert_eq!(busy(), 4);
            report(
                "busy_after",
                json!(value(
                    prometheus().as_str().unwrap(),
                    "function_calls_concurrent",
                    "busy",
                    &[]
                )),
            );
            let both = runtime.block_on(async { tokio::join!(busy_async("a"), busy_async("b")) });
            assert_eq!(both, (5, 5));
            // A cancelled call and a panicked one leave the gauge too.
            {
                let mut stuck = Box::pin(busy_stuck());
                let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
                assert!(stuck.as_mut().poll(&mut cx).is_pending());
                report("stuck_inside", json!(concurrent("busy_stuck")));
            }
            report("stuck_after", json!(concurrent("busy_stuck")));
            assert!(std::panic::catch_unwind(busy_panics).is_err());
            report("panicked_after", json!(concurrent("busy_panics")));
            assert_eq!(relaxed(), 6);
            assert_eq!(unmetered(), 7);
            tracing::info_span!("request").in_scope(|| {
                report("request", current_ids());
                assert!(spanless().is_err());
            });
            report("prometheus", prometheus());
            drop(runtime);
            drop(guard);
        });
    let text = reported(&output, "prometheus");
    let text = text.as_str().unwrap();

    // name = "...": the span's name; the metric keeps the function's.
    assert_eq!(calls(text, "renamed", "ok"), Some(1.0), "{text}");
    // level = "debug" below logging.level = info: metrics only.
    assert_eq!(calls(text, "chatty", "ok"), Some(1.0), "{text}");
    let lines = json_lines(&output);
    let chatty_line = log_line(&lines, "inside chatty");
    assert!(
        chatty_line.get("span_id").is_none(),
        "no span: {chatty_line}"
    );
    assert_eq!(calls(text, "loud", "ok"), Some(1.0), "{text}");

    // concurrency: 1 inside, 0 after; 2 with two calls in flight.
    assert_eq!(reported(&output, "busy_inside"), json!(1.0));
    assert_eq!(reported(&output, "busy_after"), json!(0.0));
    assert_eq!(reported(&output, "busy_async_a"), json!(2.0));
    assert_eq!(reported(&output, "busy_async_b"), json!(2.0));
    assert_eq!(
        value(text, "function_calls_concurrent", "busy_async", &[]),
        Some(0.0)
    );
    assert_eq!(calls(text, "busy_async", "ok"), Some(2.0));
    assert_eq!(reported(&output, "stuck_inside"), json!(1.0));
    assert_eq!(reported(&output, "stuck_after"), json!(0.0));
    assert_eq!(reported(&output, "panicked_after"), json!(0.0));
    assert_eq!(calls(text, "busy_stuck", "error"), Some(1.0));
    assert_eq!(calls(text, "busy_panics", "error"), Some(1.0));
    // ... and no gauge for a function that did not ask.
    assert_eq!(calls(text, "relaxed", "ok"), Some(1.0));
    assert_eq!(
        value(text, "function_calls_concurrent", "relaxed", &[]),
        None,
        "{text}"
    );

    // metrics = false: no series at all.
    assert_eq!(
        series_with_function(text, "unmetered"),
        Vec::<String>::new()
    );

    // span = false: metrics (an error, still detected), no span; its log
    // line belongs to the enclosing request.
    assert_eq!(calls(text, "spanless", "error"), Some(1.0), "{text}");
    let request = reported(&output, "request");
    let spanless_line = log_line(&lines, "inside spanless");
    assert_eq!(
        spanless_line["span_id"], request["span_id"],
        "{spanless_line}"
    );

    let expected = [
        "checkout.custom".to_string(),
        fn_span("loud"),
        fn_span("busy"),
        fn_span("busy_async"),
        fn_span("busy_async"),
        fn_span("busy_stuck"),
        fn_span("busy_panics"),
        fn_span("relaxed"),
        fn_span("unmetered"),
        "request".to_string(),
    ];
    let spans = rotel.wait_for_spans(Duration::from_secs(15), |spans| {
        spans.len() >= expected.len()
    });
    std::thread::sleep(Duration::from_millis(500));
    let spans_now = rotel.spans();
    let mut names: Vec<&str> = spans_now
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    names.sort();
    let mut expected_sorted: Vec<&str> = expected.iter().map(String::as_str).collect();
    expected_sorted.sort();
    assert_eq!(names, expected_sorted, "{spans:#?}");
    let request_span = span_named(&spans_now, "request");
    assert_eq!(
        request_span["status_code"], "unset",
        "span = false marks no span: {request_span}"
    );
}
