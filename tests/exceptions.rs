//! Errors and panics in the trace, through the public API, as a real
//! collector (rotel) receives the spans: an `#[observe(err)]` `Err` and a
//! failing task put an OpenTelemetry `exception` event (`exception.type`,
//! `exception.message`) on their span and log the error's `source()`
//! chain as `error.sources`; a panic in an observed call or a task run is
//! written as one `panicked` error log line in the span it happened in,
//! and every span it unwinds through gets an `exception` event with the
//! panic's message (and `exception.stacktrace` when backtraces are on:
//! `RUST_BACKTRACE`, or `errors.backtrace = on`). The hook set before
//! `init()` still sees every panic, and a panic while its span's state is
//! locked does not hang.
//!
//! Longer than 500 lines because the observed functions and tasks each
//! scenario runs sit beside it, and the scenarios share the readers of
//! what rotel received.
// With the `off` feature, the macros return the functions untouched: what
// these tests check does not exist then; ui-tests/off covers that mode.
#![cfg(not(feature = "off"))]

use o11y_test_support as common;

use std::error::Error;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use common::scenario::{current_thread_runtime, json_lines, log_line, o11y_child, report};
use o11y::task::Envelope;
use serde_json::{Value, json};

const MODULE: &str = "exceptions";

// ---------------------------------------------------------------------------
// Errors with causes.

/// An error with a cause, itself with a cause: `source()` is the chain.
#[derive(Debug)]
struct OrderNotSaved(QueryFailed);

#[derive(Debug)]
struct QueryFailed(std::io::Error);

impl fmt::Display for OrderNotSaved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("order 42 not saved")
    }
}

impl Error for OrderNotSaved {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.0)
    }
}

impl fmt::Display for QueryFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("INSERT INTO orders failed")
    }
}

impl Error for QueryFailed {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.0)
    }
}

fn not_saved() -> OrderNotSaved {
    OrderNotSaved(QueryFailed(std::io::Error::new(
        std::io::ErrorKind::ConnectionRefused,
        "connection refused",
    )))
}

const SOURCES: &str = "INSERT INTO orders failed: connection refused";

/// Only `Display`: an error with nothing to ask for causes.
#[derive(Debug)]
struct Declined;

impl fmt::Display for Declined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("card declined")
    }
}

// ---------------------------------------------------------------------------
// Observed functions.

#[o11y::observe(err)]
fn save_order() -> Result<(), OrderNotSaved> {
    Err(not_saved())
}

#[o11y::observe(err)]
async fn save_order_boxed() -> Result<(), Box<dyn Error + Send + Sync>> {
    tokio::task::yield_now().await;
    Err(Box::new(not_saved()))
}

#[o11y::observe(err)]
fn charge() -> Result<(), Declined> {
    Err(Declined)
}

#[o11y::observe]
fn reserve_stock(count: u32) -> u32 {
    if count > 10 {
        panic!("stock went negative: {count}");
    }
    count
}

/// Calls an observed function that panics: the panic unwinds through both.
#[o11y::observe]
fn checkout(count: u32) -> u32 {
    reserve_stock(count) + 1
}

#[o11y::observe]
async fn ship(parcels: u32) -> u32 {
    tokio::task::yield_now().await;
    if parcels == 0 {
        panic!("nothing to ship");
    }
    parcels
}

// ---------------------------------------------------------------------------
// Tasks.

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct OrderJob {
    order_id: u64,
}

#[o11y::task_traced]
fn persist_order(job: Envelope<OrderJob>) -> Result<u64, OrderNotSaved> {
    match job.payload.order_id {
        0 => Err(not_saved()),
        13 => panic!("order 13 is cursed"),
        id => Ok(id),
    }
}

#[o11y::task_traced]
async fn notify_customer(job: Envelope<OrderJob>) -> u64 {
    tokio::task::yield_now().await;
    if job.payload.order_id == 7 {
        panic!("mail server on fire");
    }
    job.payload.order_id
}

// ---------------------------------------------------------------------------
// Helpers.

fn span_name(function: &str) -> String {
    format!("{MODULE}::{function}")
}

/// The spans of `name` that failed.
fn failed<'a>(spans: &'a [Value], name: &str) -> Vec<&'a Value> {
    common::named(spans, name)
        .into_iter()
        .filter(|span| span["status_code"] == "error")
        .collect()
}

/// The one failed span of `name`.
#[track_caller]
fn failed_span<'a>(spans: &'a [Value], name: &str) -> &'a Value {
    let found = failed(spans, name);
    assert_eq!(found.len(), 1, "one failed {name}: {spans:#?}");
    found[0]
}

/// The `exception` events of `span`.
fn exceptions(span: &Value) -> Vec<&Value> {
    span["events"]
        .as_array()
        .map(|events| {
            events
                .iter()
                .filter(|event| event["name"] == "exception")
                .collect()
        })
        .unwrap_or_default()
}

/// The one `exception` event of `span`.
#[track_caller]
fn exception(span: &Value) -> &Value {
    let found = exceptions(span);
    assert_eq!(found.len(), 1, "one exception event in {span:#}");
    &found[0]["attributes"]
}

/// The log lines written with `event` as their message.
fn lines_with<'a>(lines: &'a [Value], event: &str) -> Vec<&'a Value> {
    lines.iter().filter(|line| line["event"] == event).collect()
}

/// The `panicked` line whose message is `message`.
#[track_caller]
fn panicked_line<'a>(lines: &'a [Value], message: &str) -> &'a Value {
    let found: Vec<&Value> = lines_with(lines, "panicked")
        .into_iter()
        .filter(|line| line["exception.message"] == message)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one panicked line for {message:?}: {lines:#?}"
    );
    found[0]
}

// ---------------------------------------------------------------------------
// Tests.

#[test]
fn errors_and_panics_put_exception_events_on_their_spans() {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    let output = o11y_child("errors_and_panics_put_exception_events_on_their_spans")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
        .env("RUST_BACKTRACE", "1")
        .run(|| {
            // The application's own hook, set before init(): still called.
            let standard = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                let payload = info.payload();
                let message = payload
                    .downcast_ref::<&str>()
                    .copied()
                    .or_else(|| payload.downcast_ref::<String>().map(String::as_str));
                println!("\napplication hook saw: {message:?}");
                standard(info);
            }));
            let guard = o11y::init().expect("init");
            let runtime = current_thread_runtime();

            assert!(save_order().is_err());
            assert!(runtime.block_on(save_order_boxed()).is_err());
            assert!(charge().is_err());

            // A panic unwinding through two observed calls, caught by the caller.
            let caught = catch_unwind(|| checkout(11)).expect_err("it panics");
            assert_eq!(
                caught.downcast_ref::<String>().map(String::as_str),
                Some("stock went negative: 11"),
                "the panic goes on unchanged"
            );
            // An async call panicking in a spawned task: tokio catches the
            // panic, then drops the future elsewhere, later.
            let spawned = runtime.block_on(async { tokio::spawn(ship(0)).await });
            assert!(spawned.expect_err("it panics").is_panic());

            // Tasks: an error with causes, a sync panic, an async panic.
            let job = |order_id| Envelope::new("persist_order", OrderJob { order_id });
            assert!(persist_order(job(0)).is_err());
            let caught = catch_unwind(AssertUnwindSafe(|| persist_order(job(13))));
            assert!(caught.is_err());
            let notify = Envelope::new("notify_customer", OrderJob { order_id: 7 });
            let spawned = runtime.block_on(async { tokio::spawn(notify_customer(notify)).await });
            assert!(spawned.expect_err("it panics").is_panic());

            report("done", json!(true));
            drop(runtime);
            drop(guard);
        });
    let lines = json_lines(&output);
    let spans = rotel.wait_for_spans(Duration::from_secs(15), |spans| {
        [
            span_name("save_order"),
            span_name("save_order_boxed"),
            span_name("charge"),
            span_name("checkout"),
            span_name("reserve_stock"),
            span_name("ship"),
            "process persist_order".to_owned(),
            "process notify_customer".to_owned(),
        ]
        .iter()
        .all(|name| !failed(spans, name).is_empty())
            && failed(spans, "process persist_order").len() == 2
    });

    // `err`: the exception has the error's type and Display; the line, its causes.
    let error_type = std::any::type_name::<OrderNotSaved>();
    let saved = failed_span(&spans, &span_name("save_order"));
    assert_eq!(saved["attributes"]["error.type"], error_type, "{saved:#}");
    let event = exception(saved);
    assert_eq!(event["exception.type"], error_type);
    assert_eq!(event["exception.message"], "order 42 not saved");
    assert!(event.get("exception.stacktrace").is_none(), "{event}");
    let line = log_line(&lines, "save_order failed");
    assert_eq!(
        line["error"], "order 42 not saved",
        "kept as it was: {line}"
    );
    assert_eq!(line["error.sources"], SOURCES, "{line}");
    assert_eq!(line["span_id"], saved["span_id"]);

    // A boxed `dyn Error`: its causes too.
    let boxed = failed_span(&spans, &span_name("save_order_boxed"));
    let event = exception(boxed);
    assert_eq!(
        event["exception.type"],
        std::any::type_name::<Box<dyn Error + Send + Sync>>()
    );
    assert_eq!(event["exception.message"], "order 42 not saved");
    let line = log_line(&lines, "save_order_boxed failed");
    assert_eq!(line["error.sources"], SOURCES, "{line}");

    // Only `Display`: the exception, and no `error.sources`.
    let charged = failed_span(&spans, &span_name("charge"));
    assert_eq!(exception(charged)["exception.message"], "card declined");
    let line = log_line(&lines, "charge failed");
    assert!(line.get("error.sources").is_none(), "{line}");

    // A panic: one line, in the span it happened in, and one exception
    // event on each span it unwound through, with the backtrace.
    let message = "stock went negative: 11";
    let inner = failed_span(&spans, &span_name("reserve_stock"));
    let outer = failed_span(&spans, &span_name("checkout"));
    for span in [inner, outer] {
        assert_eq!(span["attributes"]["error.type"], "panic", "{span:#}");
        let event = exception(span);
        assert_eq!(event["exception.type"], "panic");
        assert_eq!(event["exception.message"], message);
        let stacktrace = event["exception.stacktrace"]
            .as_str()
            .expect("RUST_BACKTRACE=1");
        assert!(stacktrace.contains("reserve_stock"), "{stacktrace}");
    }
    let line = panicked_line(&lines, message);
    assert_eq!(line["level"], "error");
    assert_eq!(line["logger"], "o11y::panic");
    assert_eq!(line["exception.type"], "panic");
    assert_eq!(line["trace_id"], inner["trace_id"], "{line}");
    assert_eq!(
        line["span_id"], inner["span_id"],
        "in the span it happened in"
    );
    assert_eq!(line["code.file.path"], "tests/exceptions.rs");
    assert!(line["code.line.number"].is_u64(), "{line}");
    assert!(
        line["exception.stacktrace"]
            .as_str()
            .is_some_and(|trace| trace.contains("reserve_stock")),
        "{line}"
    );
    assert!(
        inner["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|event| event["name"] == "exception"),
        "the line is not a span event besides the exception: {inner:#}"
    );

    // An async panic under tokio is a panic, not a cancellation.
    let shipped = failed_span(&spans, &span_name("ship"));
    assert_eq!(shipped["attributes"]["error.type"], "panic", "{shipped:#}");
    assert_eq!(exception(shipped)["exception.message"], "nothing to ship");
    assert_eq!(
        panicked_line(&lines, "nothing to ship")["span_id"],
        shipped["span_id"]
    );

    // Tasks: a failure with its causes, and both panics.
    let runs = failed(&spans, "process persist_order");
    let failed_run = runs
        .iter()
        .find(|span| span["attributes"]["error.type"] == error_type)
        .expect("the failed run");
    assert_eq!(
        exception(failed_run)["exception.message"],
        "order 42 not saved"
    );
    let failed_line = lines_with(&lines, "task_failed")
        .into_iter()
        .find(|line| line["outcome"] == "failed")
        .expect("the failed run's line");
    assert_eq!(failed_line["error.sources"], SOURCES, "{failed_line}");
    let panicked_run = runs
        .iter()
        .find(|span| span["attributes"]["error.type"] == "panic")
        .expect("the panicked run");
    assert_eq!(
        exception(panicked_run)["exception.message"],
        "order 13 is cursed"
    );
    let notified = failed_span(&spans, "process notify_customer");
    assert_eq!(
        notified["attributes"]["error.type"], "panic",
        "{notified:#}"
    );
    assert_eq!(
        exception(notified)["exception.message"],
        "mail server on fire"
    );
    let task_panics: Vec<&Value> = lines_with(&lines, "task_failed")
        .into_iter()
        .filter(|line| line["outcome"] == "panicked")
        .collect();
    assert_eq!(task_panics.len(), 2, "{lines:#?}");
    for line in task_panics {
        assert!(
            ["order 13 is cursed", "mail server on fire"]
                .contains(&line["error"].as_str().unwrap()),
            "the panic's message: {line}"
        );
    }

    // One `panicked` line per panic, and the application's hook saw each.
    assert_eq!(lines_with(&lines, "panicked").len(), 4, "{lines:#?}");
    for message in [
        message,
        "nothing to ship",
        "order 13 is cursed",
        "mail server on fire",
    ] {
        assert!(
            output
                .stdout
                .contains(&format!("application hook saw: Some({message:?})")),
            "{}",
            output.combined()
        );
    }
}

#[test]
fn without_rust_backtrace_a_panic_has_no_stacktrace() {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    let output = o11y_child("without_rust_backtrace_a_panic_has_no_stacktrace")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
        .env("RUST_BACKTRACE", "0")
        .env_remove("RUST_LIB_BACKTRACE")
        .run(|| {
            let guard = o11y::init().expect("init");
            assert!(catch_unwind(|| reserve_stock(12)).is_err());
            drop(guard);
        });
    let spans = rotel.wait_for_spans(Duration::from_secs(15), |spans| !spans.is_empty());
    let event = exception(failed_span(&spans, &span_name("reserve_stock")));
    assert_eq!(event["exception.message"], "stock went negative: 12");
    assert!(event.get("exception.stacktrace").is_none(), "{event}");
    let lines = json_lines(&output);
    let line = panicked_line(&lines, "stock went negative: 12");
    assert!(line.get("exception.stacktrace").is_none(), "{line}");
}

#[test]
fn errors_backtrace_on_captures_one_whatever_rust_backtrace_says() {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    let output = o11y_child("errors_backtrace_on_captures_one_whatever_rust_backtrace_says")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
        .env("RUST_BACKTRACE", "0")
        .env_remove("RUST_LIB_BACKTRACE")
        .env("O11Y_ERRORS_BACKTRACE", "on")
        .run(|| {
            let guard = o11y::init().expect("init");
            assert!(catch_unwind(|| reserve_stock(13)).is_err());
            drop(guard);
        });
    let spans = rotel.wait_for_spans(Duration::from_secs(15), |spans| !spans.is_empty());
    let event = exception(failed_span(&spans, &span_name("reserve_stock")));
    assert!(
        event["exception.stacktrace"]
            .as_str()
            .is_some_and(|trace| trace.contains("reserve_stock")),
        "{event}"
    );
    // The standard hook, still chained, printed the panic as it always does.
    assert!(
        output.stderr.contains("stock went negative: 13"),
        "{}",
        output.combined()
    );
}

/// A value whose `Debug` panics, recorded while o11y holds its span's lock.
struct PanicsInDebug;

impl fmt::Debug for PanicsInDebug {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("Debug of a field panicked")
    }
}

#[o11y::observe(fields(entry = tracing::field::Empty))]
fn audit(how: u8) {
    match how {
        // A warning becomes a span event: its fields are visited with the
        // span's state locked.
        0 => tracing::warn!(entry = ?PanicsInDebug, "audited"),
        // So is a span field recorded later.
        _ => {
            tracing::Span::current().record("entry", tracing::field::debug(PanicsInDebug));
        }
    }
}

/// The panic hook writes and records into the current span, whose state
/// the panicking thread may hold locked: it must not wait for it.
#[test]
fn a_panic_while_its_span_is_locked_does_not_hang() {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    let output = o11y_child("a_panic_while_its_span_is_locked_does_not_hang")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
        .timeout(Duration::from_secs(30))
        .run(|| {
            let guard = o11y::init().expect("init");
            for how in [0, 1] {
                assert!(catch_unwind(|| audit(how)).is_err());
            }
            tracing::info!("still logging");
            drop(guard);
        });
    let lines = json_lines(&output);
    let panics = lines_with(&lines, "panicked");
    assert_eq!(panics.len(), 2, "{lines:#?}");
    for line in panics {
        assert_eq!(line["exception.message"], "Debug of a field panicked");
    }
    log_line(&lines, "still logging");
    let spans = rotel.wait_for_spans(Duration::from_secs(15), |spans| {
        failed(spans, &span_name("audit")).len() == 2
    });
    for span in failed(&spans, &span_name("audit")) {
        assert_eq!(span["attributes"]["error.type"], "panic", "{span:#}");
        assert_eq!(
            exception(span)["exception.message"],
            "Debug of a field panicked",
            "recorded by the guard once the lock was released"
        );
    }
}
