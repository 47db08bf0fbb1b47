//! Sentry (feature `sentry`), with the real SDK against a listener in the
//! test ([`common::SentryReceiver`]) whose DSN the child's `SENTRY_DSN`
//! names: an `#[observe(err)]` error, a handler's panic through the HTTP
//! layer and a failed task each arrive as exactly one event, with the
//! exception, the `trace_id`, `span_id` (and, in a request, `request_id`)
//! tags and trace context of where it happened, the release and the
//! environment; a panic's event has its stack trace. Without a DSN nothing
//! of Sentry runs, and a DSN that is not one fails `init()` naming the key
//! and where it came from.
//!
//! What the events must not carry (the secrets corpus) is checked in
//! `tests/redaction_integrations.rs`.
#![cfg(all(feature = "sentry", feature = "axum", not(feature = "off")))]

use o11y_test_support as common;

use std::fmt;

use axum::Router;
use axum::routing::get;
use common::SentryReceiver;
use common::http::{assert_status, get_from};
use common::scenario::{o11y_child, report, reported};
use common::server::serve;
use o11y::task::Envelope;
use serde_json::{Value, json};
use tower_http::catch_panic::CatchPanicLayer;

#[derive(Debug)]
struct Declined;

impl fmt::Display for Declined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("card declined for order 42")
    }
}

impl std::error::Error for Declined {}

/// Where the code that failed ran, reported to the parent under `key`.
fn report_ids(key: &str) {
    let ids = o11y::trace::current_span_ids().expect("inside a span");
    report(
        key,
        json!({"trace_id": ids.trace_id, "span_id": ids.span_id}),
    );
}

#[o11y::observe(err)]
fn charge() -> Result<(), Declined> {
    report_ids("charge");
    Err(Declined)
}

async fn explode() -> &'static str {
    report_ids("explode");
    panic!("stock went negative for order 42");
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Job {
    order_id: u64,
}

#[o11y::task_traced]
fn ship(job: Envelope<Job>) -> Result<(), Declined> {
    report_ids("ship");
    let _ = job.payload.order_id;
    Err(Declined)
}

fn app() -> Router {
    Router::new()
        .route("/explode", get(explode))
        .layer(o11y::http::layer())
        // As the README advises: the panic becomes a 500.
        .layer(CatchPanicLayer::new())
}

/// The one event whose `transaction` (the failing span's name) is `name`.
#[track_caller]
fn event_in<'a>(events: &'a [Value], name: &str) -> &'a Value {
    let found: Vec<&Value> = events
        .iter()
        .filter(|event| event["transaction"] == name)
        .collect();
    assert_eq!(found.len(), 1, "one event in {name}: {events:#?}");
    found[0]
}

/// The event's tags and trace context say it happened where `ids` (as
/// the child reported them) say.
#[track_caller]
fn assert_happened_at(event: &Value, ids: &Value) {
    assert_eq!(event["tags"]["trace_id"], ids["trace_id"], "{event:#}");
    assert_eq!(event["tags"]["span_id"], ids["span_id"], "{event:#}");
    let trace = &event["contexts"]["trace"];
    assert_eq!(trace["type"], "trace", "{event:#}");
    assert_eq!(trace["trace_id"], ids["trace_id"], "{event:#}");
    assert_eq!(trace["span_id"], ids["span_id"], "{event:#}");
}

#[test]
fn errors_panics_and_failed_tasks_arrive_as_one_event_each() {
    let sentry = SentryReceiver::start();
    let output = o11y_child("errors_panics_and_failed_tasks_arrive_as_one_event_each")
        .env("SENTRY_DSN", sentry.dsn())
        .env("O11Y_SERVICE_VERSION", "1.4.2")
        .env("RUST_BACKTRACE", "1")
        .run(|| {
            let guard = o11y::init().expect("init");
            assert!(charge().is_err());

            let (addr, runtime) = serve(app());
            let exploded = get_from(addr, "/explode", &[("x-request-id", "req-sentry-1")]);
            assert_status(&exploded, 500);
            drop(runtime);

            let job = Envelope::new("ship", Job { order_id: 42 });
            assert!(ship(job).is_err());
            drop(guard);
        });
    let events = sentry.events();
    assert_eq!(events.len(), 3, "one event per failure: {events:#?}");
    for event in &events {
        assert_eq!(event["release"], "1.4.2", "service.version: {event:#}");
        assert_eq!(event["environment"], "dev", "the profile: {event:#}");
        assert_eq!(event["platform"], "native", "{event:#}");
        assert_eq!(
            event["tags"]["service.name"],
            "errors_panics_and_failed_tasks_arrive_as_one_event_each"
        );
        assert!(event.get("user").is_none(), "no user: {event:#}");
    }

    // `#[observe(err)]`: the error's type and Display, where it returned.
    let declined = std::any::type_name::<Declined>();
    let charged = event_in(&events, "sentry::charge");
    assert!(
        charged.get("level").is_none(),
        "error, the default: {charged:#}"
    );
    let exception = &charged["exception"]["values"][0];
    assert_eq!(exception["type"], declined);
    assert_eq!(exception["value"], "card declined for order 42");
    assert_eq!(exception["mechanism"]["type"], "generic");
    assert_eq!(exception["mechanism"]["handled"], true);
    assert!(charged["tags"].get("request_id").is_none(), "{charged:#}");
    assert_happened_at(charged, &reported(&output, "charge"));

    // The handler's panic: once (the panic hook's), in the request, with
    // its request id and stack trace.
    let panicked = event_in(&events, "GET /explode");
    assert_eq!(panicked["level"], "fatal");
    let exception = &panicked["exception"]["values"][0];
    assert_eq!(exception["type"], "panic");
    assert_eq!(exception["value"], "stock went negative for order 42");
    assert_eq!(exception["mechanism"]["type"], "panic");
    assert_eq!(exception["mechanism"]["handled"], false);
    assert_eq!(panicked["tags"]["request_id"], "req-sentry-1");
    assert_happened_at(panicked, &reported(&output, "explode"));
    let frames = exception["stacktrace"]["frames"]
        .as_array()
        .expect("RUST_BACKTRACE=1: a stack trace");
    let innermost = frames.last().expect("frames");
    assert!(
        innermost["function"]
            .as_str()
            .is_some_and(|f| f.contains("explode")),
        "the innermost frame is the handler's: {frames:#?}"
    );

    // The task: a third event, in the task run.
    let shipped = event_in(&events, "process ship");
    let exception = &shipped["exception"]["values"][0];
    assert_eq!(exception["type"], declined);
    assert_eq!(exception["value"], "card declined for order 42");
    assert_happened_at(shipped, &reported(&output, "ship"));

    // The SDK's own headers: the DSN's key, the envelope content type.
    let requests = sentry.requests();
    assert!(
        requests.iter().all(|r| r.path == "/api/1/envelope/"),
        "{requests:#?}"
    );
    for request in &requests {
        let auth = request.header("x-sentry-auth").expect("auth header");
        assert!(auth.contains("sentry_key=public"), "{auth}");
        assert_eq!(
            request.header("content-type"),
            Some("application/x-sentry-envelope")
        );
    }
}

#[test]
fn without_a_dsn_nothing_of_sentry_runs() {
    let sentry = SentryReceiver::start();
    let output = o11y_child("without_a_dsn_nothing_of_sentry_runs")
        .env_remove("SENTRY_DSN")
        .env("RUST_BACKTRACE", "1")
        .run(|| {
            let guard = o11y::init().expect("init");
            assert!(charge().is_err());
            let (addr, runtime) = serve(app());
            assert_status(&get_from(addr, "/explode", &[]), 500);
            drop(runtime);
            report("threads", json!(thread_names()));
            drop(guard);
        });
    assert!(sentry.requests().is_empty());
    let threads = reported(&output, "threads");
    let threads = threads.as_array().expect("thread names");
    assert!(!threads.is_empty(), "the names were read");
    assert!(
        !threads.iter().any(|name| name == "o11y-sentry"),
        "no Sentry thread: {threads:?}"
    );
}

#[test]
fn a_sentry_thread_runs_with_a_dsn_and_sampled_out_events_are_not_sent() {
    let sentry = SentryReceiver::start();
    let output = o11y_child("a_sentry_thread_runs_with_a_dsn_and_sampled_out_events_are_not_sent")
        .env("SENTRY_DSN", sentry.dsn())
        .env("O11Y_SENTRY_EVENT_SAMPLE_RATE", "0")
        .run(|| {
            let guard = o11y::init().expect("init");
            assert!(charge().is_err());
            report("threads", json!(thread_names()));
            drop(guard);
        });
    let threads = reported(&output, "threads");
    assert!(
        threads
            .as_array()
            .expect("names")
            .iter()
            .any(|name| name == "o11y-sentry"),
        "the thread the test above looks for: {threads}"
    );
    assert!(sentry.events().is_empty(), "{:#?}", sentry.events());
}

#[test]
fn a_dsn_that_is_not_one_fails_init_naming_the_key_and_the_variable() {
    let output = o11y_child("a_dsn_that_is_not_one_fails_init_naming_the_key_and_the_variable")
        .env("SENTRY_DSN", "https://o1.ingest.sentry.io/42")
        .run(|| {
            let error = o11y::init().expect_err("no public key");
            report("error", json!(error.to_string()));
        });
    let error = reported(&output, "error");
    let error = error.as_str().expect("text");
    for expected in ["sentry.dsn", "SENTRY_DSN", "public key"] {
        assert!(error.contains(expected), "{expected:?} in {error}");
    }
}

/// The names of this process's threads (Linux: `/proc/self/task`).
fn thread_names() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task")
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .map(|name| name.trim().to_owned())
        .collect()
}
