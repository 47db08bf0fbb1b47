//! The HTTP server layer (`o11y::http::layer()`, feature `axum`) around a
//! real axum app served on loopback, through the public API: the server
//! spans rotel receives (matched, unmatched, 4xx, 5xx, panics with and
//! without tower-http's `CatchPanic`, a cancelled request, excluded paths),
//! a panic's `exception` event and its one error line with the request's
//! ids (`CatchPanic` outside the layer and inside it),
//! W3C `traceparent`/`tracestate` continuation and the fallback for
//! malformed headers, request ids, the JSON log lines of a request, the
//! configuration keys, the in-flight gauge, and the RED metrics as a real
//! Prometheus scrapes them, with bounded method and route labels.
//!
//! Tests that call `o11y::init()` run their body in a child process (see
//! `tests/support`).
//!
//! One file past 500 lines, not several: each integration test file is a
//! test binary of its own, linked once per feature set of `scripts/test.sh`
//! (six), and the scenarios here share one app and its helpers.
// With `off`, o11y never turns on, so the layer passes every request through.
#![cfg(all(feature = "axum", not(feature = "off")))]

use o11y_test_support as common;

use std::collections::BTreeSet;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use common::exposition::sample_value;
use common::http::{assert_status, get_from, send};
use common::scenario::{json_lines, o11y_child, report, reported};
use common::server::serve;
use common::unix_now;
use serde_json::{Value, json};
use tower::ServiceExt;
use tower_http::catch_panic::CatchPanicLayer;

// ---------------------------------------------------------------------------
// The app under test.

#[o11y::observe(fields(order_id = id))]
async fn load_order(id: u64) -> String {
    tracing::info!("loading order");
    format!("order {id}")
}

/// Logs before and after naming the user (from `X-User`, as auth code would).
async fn get_order(Path(id): Path<u64>, headers: HeaderMap) -> String {
    tracing::info!("order requested");
    if let Some(user) = headers.get("x-user") {
        let user = user.to_str().expect("ASCII user").to_owned();
        assert!(o11y::http::set_user(user), "set_user inside a request");
    }
    load_order(id).await
}

/// What the handler sees: the current span's ids and the request id header.
async fn ids(headers: HeaderMap) -> String {
    let ids = o11y::trace::current_span_ids();
    json!({
        "trace_id": ids.as_ref().map(|ids| ids.trace_id.clone()),
        "span_id": ids.as_ref().map(|ids| ids.span_id.clone()),
        "sampled": ids.as_ref().map(|ids| ids.sampled),
        "request_id": headers
            .get("x-request-id")
            .map(|id| id.to_str().expect("ASCII id").to_owned()),
    })
    .to_string()
}

async fn panics(Path(how): Path<String>) -> String {
    panic!("the handler panicked ({how})")
}

/// Never answers: for requests that are dropped while in flight.
async fn slow() -> String {
    std::future::pending().await
}

/// Built after `init()` (the metrics route reads the configured endpoint).
fn app() -> Router {
    Router::new()
        .route("/orders/{id}", get(get_order))
        .route("/ids/{case}", get(ids))
        .route("/forbidden", get(|| async { StatusCode::FORBIDDEN }))
        .route(
            "/boom",
            get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "boom") }),
        )
        .route("/panic/{how}", get(panics))
        .route("/slow", get(slow))
        .route("/health", get(|| async { "ok" }))
        .merge(o11y::http::routes())
        .layer(o11y::http::layer())
}

/// [`app`] with tower-http's `CatchPanic` outside the layer.
fn app_catching_panics() -> Router {
    app().layer(CatchPanicLayer::new())
}

/// A request for the app called in process (`oneshot`), without a client
/// or connect info.
fn in_process(path: &str) -> axum::extract::Request {
    axum::http::Request::get(path)
        .body(Body::empty())
        .expect("request")
}

fn is_hex(text: &str, digits: usize) -> bool {
    text.len() == digits
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The server spans rotel received.
fn server_spans(spans: &[Value]) -> Vec<&Value> {
    spans.iter().filter(|s| s["kind"] == "server").collect()
}

/// The one server span of a request for `path`.
#[track_caller]
fn server_span<'a>(spans: &'a [Value], path: &str) -> &'a Value {
    let found: Vec<&Value> = server_spans(spans)
        .into_iter()
        .filter(|s| s["attributes"]["url.path"] == path)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected one server span for {path}; all spans:\n{spans:#?}"
    );
    found[0]
}

/// The log lines of the request whose id is `request_id`.
fn lines_of<'a>(lines: &'a [Value], request_id: &str) -> Vec<&'a Value> {
    lines
        .iter()
        .filter(|line| line["request_id"] == request_id)
        .collect()
}

#[track_caller]
fn line_with<'a>(lines: &[&'a Value], event: &str) -> &'a Value {
    let found: Vec<&'a Value> = lines
        .iter()
        .copied()
        .filter(|l| l["event"] == event)
        .collect();
    assert_eq!(found.len(), 1, "one {event:?} line in {lines:#?}");
    found[0]
}

// ---------------------------------------------------------------------------
// Spans

#[test]
fn server_spans_of_every_kind_of_request() {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    o11y_child("server_spans_of_every_kind_of_request")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
        .run(|| {
            let guard = o11y::init().expect("init");
            let (addr, runtime) = serve(app_catching_panics());
            assert_status(&get_from(addr, "/orders/42", &[]), 200);
            assert_status(&get_from(addr, "/no/such/path", &[]), 404);
            assert_status(&get_from(addr, "/forbidden", &[]), 403);
            assert_status(&get_from(addr, "/boom", &[]), 500);
            assert_status(&get_from(addr, "/panic/caught", &[]), 500);
            assert_status(&get_from(addr, "/health", &[]), 200);
            assert_status(&get_from(addr, "/metrics", &[]), 200);
            // Without CatchPanic the panic ends the task serving the request.
            let uncaught = runtime.block_on(async {
                tokio::spawn(app().oneshot(in_process("/panic/uncaught"))).await
            });
            assert!(uncaught.expect_err("the handler panicked").is_panic());
            // Dropped before it answers (a client gone, a timeout outside).
            let cancelled = runtime.block_on(async {
                let slow = app().oneshot(in_process("/slow"));
                tokio::time::timeout(Duration::from_millis(200), slow).await
            });
            assert!(cancelled.is_err(), "/slow never answers");
            drop(runtime);
            drop(guard); // flushes
        });

    rotel.wait_for_spans(Duration::from_secs(15), |spans| {
        server_spans(spans).len() >= 7 && spans.iter().any(|s| s["kind"] == "internal")
    });
    // Whatever else was exported arrives with them; give rotel one more batch.
    std::thread::sleep(Duration::from_millis(500));
    let spans = rotel.spans();

    // Matched: `METHOD route`, SERVER, the semantic-convention attributes.
    let order = server_span(&spans, "/orders/42");
    assert_eq!(order["name"], "GET /orders/{id}", "{order}");
    assert_eq!(order["scope"], "o11y::http", "{order}");
    assert_eq!(order["status_code"], "unset", "{order}");
    assert_eq!(order["parent_span_id"], "", "a root: {order}");
    let attributes = &order["attributes"];
    assert_eq!(attributes["http.request.method"], "GET", "{order}");
    assert_eq!(attributes["http.route"], "/orders/{id}", "{order}");
    assert_eq!(attributes["url.scheme"], "http", "{order}");
    assert_eq!(attributes["http.response.status_code"], 200, "{order}");
    assert_eq!(attributes["client.address"], "127.0.0.1", "{order}");
    assert_eq!(attributes["user_agent.original"], "o11y-tests", "{order}");
    assert_eq!(attributes["network.protocol.version"], "1.1", "{order}");
    assert!(
        attributes.get("code.file.path").is_none(),
        "o11y's own span names no file of o11y: {order}"
    );
    assert!(
        is_hex(attributes["request_id"].as_str().unwrap_or_default(), 32),
        "{order}"
    );
    assert!(attributes.get("error.type").is_none(), "{order}");
    // The handler's #[observe] span is its child.
    let load = common::scenario::span_named(&spans, "http_layer::load_order");
    assert_eq!(load["parent_span_id"], order["span_id"], "{load}");
    assert_eq!(load["trace_id"], order["trace_id"], "{load}");
    assert_eq!(load["attributes"]["order_id"], 42, "{load}");

    // Unmatched: the method alone, no http.route.
    let unmatched = server_span(&spans, "/no/such/path");
    assert_eq!(unmatched["name"], "GET", "{unmatched}");
    assert!(
        unmatched["attributes"].get("http.route").is_none(),
        "{unmatched}"
    );
    assert_eq!(
        unmatched["attributes"]["http.response.status_code"], 404,
        "{unmatched}"
    );
    assert_eq!(unmatched["status_code"], "unset", "{unmatched}");

    // 4xx: not an error of the server.
    let forbidden = server_span(&spans, "/forbidden");
    assert_eq!(forbidden["name"], "GET /forbidden", "{forbidden}");
    assert_eq!(
        forbidden["attributes"]["http.response.status_code"], 403,
        "{forbidden}"
    );
    assert_eq!(forbidden["status_code"], "unset", "{forbidden}");
    assert!(
        forbidden["attributes"].get("error.type").is_none(),
        "{forbidden}"
    );

    // 5xx: an error, typed by its status code.
    let boom = server_span(&spans, "/boom");
    assert_eq!(boom["name"], "GET /boom", "{boom}");
    assert_eq!(
        boom["attributes"]["http.response.status_code"], 500,
        "{boom}"
    );
    assert_eq!(boom["status_code"], "error", "{boom}");
    assert_eq!(boom["attributes"]["error.type"], "500", "{boom}");

    // Panics, caught outside the layer or not at all: 500, error `panic`.
    for path in ["/panic/caught", "/panic/uncaught"] {
        let panicked = server_span(&spans, path);
        assert_eq!(panicked["name"], "GET /panic/{how}", "{panicked}");
        assert_eq!(panicked["status_code"], "error", "{panicked}");
        assert_eq!(panicked["attributes"]["error.type"], "panic", "{panicked}");
        assert_eq!(
            panicked["attributes"]["http.response.status_code"], 500,
            "{panicked}"
        );
    }
    // Called in process: no connect info, so no client address.
    let uncaught = server_span(&spans, "/panic/uncaught");
    assert!(
        uncaught["attributes"].get("client.address").is_none(),
        "{uncaught}"
    );

    // Cancelled: an error, and no status code since none was sent.
    let cancelled = server_span(&spans, "/slow");
    assert_eq!(cancelled["name"], "GET /slow", "{cancelled}");
    assert_eq!(cancelled["status_code"], "error", "{cancelled}");
    assert_eq!(
        cancelled["attributes"]["error.type"], "cancelled",
        "{cancelled}"
    );
    assert!(
        cancelled["attributes"]
            .get("http.response.status_code")
            .is_none(),
        "{cancelled}"
    );

    // Excluded paths: no span at all.
    let server = server_spans(&spans);
    assert_eq!(server.len(), 7, "{server:#?}");
    for span in &server {
        let path = span["attributes"]["url.path"].as_str().unwrap_or_default();
        assert!(!["/health", "/metrics"].contains(&path), "{span}");
    }
}

#[test]
fn traceparent_continues_the_callers_trace_and_bad_ones_start_new_traces() {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    let output =
        o11y_child("traceparent_continues_the_callers_trace_and_bad_ones_start_new_traces")
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
            .run(|| {
                let guard = o11y::init().expect("init");
                let (addr, runtime) = serve(app());
                let mut answers = serde_json::Map::new();
                let mut ask = |case: &str, path: &str, headers: &[(&str, &str)]| {
                    let response = get_from(addr, path, headers);
                    assert_status(&response, 200);
                    let body = if path.starts_with("/ids/") {
                        response.json()
                    } else {
                        Value::Null
                    };
                    answers.insert(case.to_owned(), json!({ "sent": headers, "body": body }));
                };
                let sampled = format!(
                    "00-{}-{}-01",
                    common::random_hex(32),
                    common::random_hex(16)
                );
                ask(
                    "sampled",
                    "/ids/sampled",
                    &[
                        ("traceparent", &sampled),
                        ("tracestate", "vendor=abc,other=x1"),
                    ],
                );
                let unsampled = format!(
                    "00-{}-{}-00",
                    common::random_hex(32),
                    common::random_hex(16)
                );
                ask(
                    "unsampled",
                    "/ids/unsampled",
                    &[("traceparent", &unsampled)],
                );
                let nested = format!(
                    "00-{}-{}-01",
                    common::random_hex(32),
                    common::random_hex(16)
                );
                ask("nested", "/orders/5", &[("traceparent", &nested)]);
                // Malformed: garbage, upper-case hex, a short trace id, an all-zero trace id.
                let upper = sampled.to_ascii_uppercase();
                let short = format!(
                    "00-{}-{}-01",
                    common::random_hex(30),
                    common::random_hex(16)
                );
                let zero = format!("00-{}-{}-01", "0".repeat(32), common::random_hex(16));
                for (n, bad) in ["garbage", upper.as_str(), short.as_str(), zero.as_str()]
                    .into_iter()
                    .enumerate()
                {
                    ask(
                        &format!("malformed-{n}"),
                        &format!("/ids/malformed-{n}"),
                        &[("traceparent", bad)],
                    );
                }
                report("answers", Value::Object(answers));
                drop(runtime);
                drop(guard);
            });
    let answers = reported(&output, "answers");
    let parts = |case: &str| -> (String, String) {
        let header = answers[case]["sent"][0][1].as_str().unwrap().to_owned();
        let fields: Vec<&str> = header.split('-').collect();
        (fields[1].to_owned(), fields[2].to_owned())
    };
    let body = |case: &str| answers[case]["body"].clone();

    rotel.wait_for_spans(Duration::from_secs(15), |spans| {
        server_spans(spans).len() >= 6 && spans.iter().any(|s| s["kind"] == "internal")
    });
    std::thread::sleep(Duration::from_millis(500));
    let spans = rotel.spans();

    // Sampled caller: its trace, its span as the parent, its tracestate.
    let (trace_id, parent_id) = parts("sampled");
    let seen = body("sampled");
    assert_eq!(seen["trace_id"], trace_id.as_str(), "{seen}");
    assert_eq!(seen["sampled"], true, "{seen}");
    let span = server_span(&spans, "/ids/sampled");
    assert_eq!(span["trace_id"], trace_id.as_str(), "{span}");
    assert_eq!(span["parent_span_id"], parent_id.as_str(), "{span}");
    assert_eq!(span["span_id"], seen["span_id"], "{span}");
    assert_eq!(span["trace_state"], "vendor=abc,other=x1", "{span}");
    assert_eq!(span["name"], "GET /ids/{case}", "{span}");

    // Unsampled caller: the trace is continued (the handler sees its id) but,
    // parent-based, nothing of it is exported although dev samples every root.
    let (trace_id, _) = parts("unsampled");
    let seen = body("unsampled");
    assert_eq!(seen["trace_id"], trace_id.as_str(), "{seen}");
    assert_eq!(seen["sampled"], false, "{seen}");
    assert!(
        spans.iter().all(|s| s["trace_id"] != trace_id.as_str()),
        "an unsampled caller's request was exported"
    );

    // The trace goes on through the handler's own spans.
    let (trace_id, parent_id) = parts("nested");
    let order = server_span(&spans, "/orders/5");
    assert_eq!(order["trace_id"], trace_id.as_str(), "{order}");
    assert_eq!(order["parent_span_id"], parent_id.as_str(), "{order}");
    let load = common::scenario::span_named(&spans, "http_layer::load_order");
    assert_eq!(load["trace_id"], trace_id.as_str(), "{load}");
    assert_eq!(load["parent_span_id"], order["span_id"], "{load}");

    // Malformed: answered normally, as the root of a new trace.
    let known: Vec<String> = ["sampled", "unsampled", "nested"]
        .iter()
        .map(|case| parts(case).0)
        .collect();
    for n in 0..4 {
        let case = format!("malformed-{n}");
        let seen = body(&case);
        let trace_id = seen["trace_id"].as_str().unwrap_or_default().to_owned();
        assert!(is_hex(&trace_id, 32), "{case}: {seen}");
        assert!(!known.contains(&trace_id), "{case}: {seen}");
        assert_ne!(trace_id, "0".repeat(32), "{case}");
        let span = server_span(&spans, &format!("/ids/{case}"));
        assert_eq!(span["trace_id"], trace_id.as_str(), "{span}");
        assert_eq!(span["parent_span_id"], "", "{case}: {span}");
        assert_eq!(span["status_code"], "unset", "{case}: {span}");
    }
}

// ---------------------------------------------------------------------------
// Request ids and log lines

#[test]
fn request_ids_are_echoed_generated_and_replaced() {
    let output = o11y_child("request_ids_are_echoed_generated_and_replaced").run(|| {
        let _o11y = o11y::init().expect("init");
        let (addr, _runtime) = serve(app());
        let mut seen = Vec::new();
        let oversized = "x".repeat(o11y::http::MAX_REQUEST_ID_LEN + 1);
        let longest = "y".repeat(o11y::http::MAX_REQUEST_ID_LEN);
        for (case, given) in [
            ("given", Some("req-abc.123_XYZ")),
            ("longest", Some(longest.as_str())),
            ("none", None),
            ("none-again", None),
            ("oversized", Some(oversized.as_str())),
            ("invalid", Some("bad id!")),
            ("quote", Some("id\"with'quotes")),
        ] {
            let headers: Vec<(&str, &str)> =
                given.map(|id| ("X-Request-ID", id)).into_iter().collect();
            let response = get_from(addr, &format!("/ids/{case}"), &headers);
            assert_status(&response, 200);
            let echoed = response.header("x-request-id").map(str::to_owned);
            seen.push(json!({
                "case": case,
                "given": given,
                "echoed": echoed,
                "handler": response.json()["request_id"],
            }));
        }
        // Excluded: left alone, no id.
        let health = get_from(addr, "/health", &[("X-Request-ID", "probe-1")]);
        assert_status(&health, 200);
        report("health_id", json!(health.header("x-request-id")));
        report("seen", Value::Array(seen));
    });
    let seen = reported(&output, "seen");
    let seen = seen.as_array().unwrap();
    let case = |name: &str| seen.iter().find(|s| s["case"] == name).unwrap();
    let lines = json_lines(&output);

    for name in ["given", "longest"] {
        let s = case(name);
        assert_eq!(s["echoed"], s["given"], "{s}");
        assert_eq!(s["handler"], s["given"], "{s}");
    }
    let mut generated = BTreeSet::new();
    for name in ["none", "none-again", "oversized", "invalid", "quote"] {
        let s = case(name);
        let echoed = s["echoed"].as_str().unwrap_or_default();
        assert!(
            is_hex(echoed, 32),
            "{name}: a new id, not the caller's: {s}"
        );
        // The handler sees the id that replaced the caller's.
        assert_eq!(s["handler"], echoed, "{s}");
        generated.insert(echoed.to_owned());
    }
    assert_eq!(
        generated.len(),
        5,
        "every generated id is new: {generated:?}"
    );

    // Each request's access-log line carries its id, and the rejected ids
    // appear in no log line.
    for s in seen {
        let id = s["echoed"].as_str().unwrap();
        let finished = line_with(&lines_of(&lines, id), "request_finished");
        assert_eq!(
            finished["path"],
            format!("/ids/{}", s["case"].as_str().unwrap()),
            "{finished}"
        );
    }
    for line in &lines {
        let text = line.to_string();
        assert!(
            !text.contains(&"x".repeat(129)),
            "oversized id logged: {text}"
        );
        assert!(!text.contains("bad id!"), "invalid id logged: {text}");
    }
    assert_eq!(reported(&output, "health_id"), Value::Null);
}

/// A handler's panic, with `CatchPanic` outside the layer (as the README
/// advises) and inside it: a 500, the request span failed with one
/// `exception` event carrying the panic's message, and one error line, the
/// panic hook's, carrying the request's `request_id` and `trace_id`.
#[test]
fn a_panicking_handler_is_an_exception_and_one_error_line_of_its_request() {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    let test = "a_panicking_handler_is_an_exception_and_one_error_line_of_its_request";
    let output = o11y_child(test)
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
        .run(|| {
            let guard = o11y::init().expect("init");
            let inside = Router::new()
                .route("/inner/{how}", get(panics).layer(CatchPanicLayer::new()))
                .layer(o11y::http::layer());
            let (outside_addr, _outside) = serve(app_catching_panics());
            let (inside_addr, _inside) = serve(inside);
            let outer = get_from(
                outside_addr,
                "/panic/outer",
                &[("X-Request-ID", "req-outer")],
            );
            assert_status(&outer, 500);
            let inner = get_from(
                inside_addr,
                "/inner/inner",
                &[("X-Request-ID", "req-inner")],
            );
            assert_status(&inner, 500);
            drop(guard);
        });
    let spans = rotel.wait_for_spans(Duration::from_secs(15), |spans| {
        server_spans(spans).len() >= 2
    });
    let lines = json_lines(&output);
    for (path, request_id, error_type) in [
        ("/panic/outer", "req-outer", "panic"),
        ("/inner/inner", "req-inner", "500"),
    ] {
        let how = &path[path.rfind('/').unwrap() + 1..];
        let message = format!("the handler panicked ({how})");
        let span = server_span(&spans, path);
        assert_eq!(span["status_code"], "error", "{span:#}");
        assert_eq!(span["attributes"]["error.type"], error_type, "{span:#}");
        assert_eq!(span["attributes"]["http.response.status_code"], 500);
        let exceptions: Vec<&Value> = span["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|event| event["name"] == "exception")
            .collect();
        assert_eq!(exceptions.len(), 1, "{span:#}");
        let attributes = &exceptions[0]["attributes"];
        assert_eq!(attributes["exception.type"], "panic", "{span:#}");
        assert_eq!(
            attributes["exception.message"],
            message.as_str(),
            "{span:#}"
        );

        // tower-http's CatchPanic logs an error of its own, inside the
        // request when it is inside the layer: o11y writes one.
        let errors: Vec<&Value> = lines_of(&lines, request_id)
            .into_iter()
            .filter(|line| line["level"] == "error")
            .filter(|line| error_type == "panic" || line["logger"] != "tower_http::catch_panic")
            .collect();
        assert_eq!(errors.len(), 1, "one error line for {path}: {lines:#?}");
        let line = errors[0];
        assert_eq!(line["logger"], "o11y::panic", "{line}");
        assert_eq!(line["event"], "panicked", "{line}");
        assert_eq!(line["exception.message"], message.as_str(), "{line}");
        assert_eq!(line["trace_id"], span["trace_id"], "{line}");
        assert_eq!(line["span_id"], span["span_id"], "{line}");
        assert_eq!(line["path"], path, "the request's fields: {line}");
    }
}

#[test]
fn log_lines_of_a_request_share_its_request_id_and_trace_id() {
    let output = o11y_child("log_lines_of_a_request_share_its_request_id_and_trace_id").run(|| {
        let _o11y = o11y::init().expect("init");
        let (addr, _runtime) = serve(app());
        let first = get_from(addr, "/orders/7", &[("X-User", "u-42")]);
        assert_status(&first, 200);
        assert_eq!(first.text(), "order 7");
        let second = get_from(addr, "/orders/8", &[]);
        assert_status(&second, 200);
        report(
            "ids",
            json!([first.header("x-request-id"), second.header("x-request-id")]),
        );
        // Outside any request: nothing to attach the user to.
        assert!(!o11y::http::set_user("nobody"));
    });
    let ids = reported(&output, "ids");
    let (first_id, second_id) = (ids[0].as_str().unwrap(), ids[1].as_str().unwrap());
    let lines = json_lines(&output);

    let first = lines_of(&lines, first_id);
    assert_eq!(first.len(), 3, "{first:#?}");
    let requested = line_with(&first, "order requested");
    let loading = line_with(&first, "loading order");
    let finished = line_with(&first, "request_finished");
    let trace_id = requested["trace_id"].as_str().unwrap();
    assert!(is_hex(trace_id, 32), "{requested}");
    for line in &first {
        assert_eq!(line["trace_id"], trace_id, "one trace: {line}");
        assert_eq!(line["http.method"], "GET", "{line}");
        assert_eq!(line["path"], "/orders/7", "{line}");
    }
    // The request span's lines share its span id; the #[observe] span's is its own.
    assert_eq!(requested["span_id"], finished["span_id"]);
    assert_ne!(loading["span_id"], finished["span_id"]);
    assert_eq!(loading["order_id"], 7, "{loading}");
    // The handler's line names its code; o11y's own line does not name o11y's.
    assert!(
        loading["file"].as_str().unwrap().ends_with("http_layer.rs"),
        "{loading}"
    );
    assert!(
        finished.get("file").is_none() && finished.get("line").is_none(),
        "{finished}"
    );
    // user_id from set_user on: not before it, on every line after.
    assert!(requested.get("user_id").is_none(), "{requested}");
    assert_eq!(loading["user_id"], "u-42", "{loading}");
    assert_eq!(finished["user_id"], "u-42", "{finished}");
    // The access log line.
    assert_eq!(finished["logger"], "o11y::http", "{finished}");
    assert_eq!(finished["level"], "info", "{finished}");
    assert_eq!(finished["status"], 200, "{finished}");
    let duration_ms = finished["duration_ms"].as_f64().expect("duration_ms");
    assert!((0.0..10_000.0).contains(&duration_ms), "{finished}");

    // Another request: its own id and trace, no user.
    let second = lines_of(&lines, second_id);
    assert_eq!(second.len(), 3, "{second:#?}");
    assert_ne!(first_id, second_id);
    for line in &second {
        assert_ne!(line["trace_id"], trace_id, "{line}");
        assert_eq!(line["trace_id"], second[0]["trace_id"], "{line}");
        assert_eq!(line["path"], "/orders/8", "{line}");
        assert!(line.get("user_id").is_none(), "{line}");
    }
    // Every line of the handlers belongs to one of the two requests.
    let handler_lines = lines
        .iter()
        .filter(|l| l["event"] == "order requested" || l["event"] == "loading order")
        .count();
    assert_eq!(handler_lines, 4);
}

#[test]
fn access_log_and_excluded_paths_follow_the_configuration() {
    let output = o11y_child("access_log_and_excluded_paths_follow_the_configuration")
        .env("O11Y_HTTP_ACCESS_LOG", "false")
        .env("O11Y_HTTP_EXCLUDE_PATHS", "/orders/7, /ids/private")
        .run(|| {
            let _o11y = o11y::init().expect("init");
            let (addr, _runtime) = serve(app());
            let observed = get_from(addr, "/orders/8", &[]);
            assert_status(&observed, 200);
            let excluded = get_from(addr, "/orders/7", &[]);
            assert_status(&excluded, 200);
            let private = get_from(addr, "/ids/private", &[]);
            assert_status(&private, 200);
            // The list replaces the defaults: /health is observed now.
            let health = get_from(addr, "/health", &[]);
            assert_status(&health, 200);
            report(
                "ids",
                json!({
                    "observed": observed.header("x-request-id"),
                    "excluded": excluded.header("x-request-id"),
                    "private": private.json(),
                    "health": health.header("x-request-id"),
                }),
            );
            let text = o11y::metrics::render(o11y::metrics::Format::Prometheus);
            let count = |route: &str| {
                sample_value(
                    &text,
                    "http_server_request_duration_seconds_count",
                    &[
                        ("http_request_method", "GET"),
                        ("http_route", route),
                        ("http_response_status_code", "200"),
                    ],
                )
            };
            report(
                "counts",
                json!([
                    count("/orders/{id}"),
                    count("/health"),
                    count("/ids/{case}")
                ]),
            );
        });
    let ids = reported(&output, "ids");
    let lines = json_lines(&output);
    assert!(
        is_hex(ids["observed"].as_str().unwrap_or_default(), 32),
        "{ids}"
    );
    assert!(
        is_hex(ids["health"].as_str().unwrap_or_default(), 32),
        "{ids}"
    );
    assert_eq!(ids["excluded"], Value::Null, "{ids}");
    // An excluded request is not in a request span at all.
    assert_eq!(ids["private"]["trace_id"], Value::Null, "{ids}");
    assert_eq!(ids["private"]["request_id"], Value::Null, "{ids}");

    // No access log, but the request context is on the handler's lines.
    assert!(
        lines.iter().all(|l| l["event"] != "request_finished"),
        "http.access_log = false"
    );
    let loading: Vec<&Value> = lines
        .iter()
        .filter(|l| l["event"] == "loading order")
        .collect();
    assert_eq!(loading.len(), 2, "{loading:#?}");
    let observed = loading.iter().find(|l| l["order_id"] == 8).unwrap();
    assert_eq!(observed["request_id"], ids["observed"], "{observed}");
    assert_eq!(observed["path"], "/orders/8", "{observed}");
    let excluded = loading.iter().find(|l| l["order_id"] == 7).unwrap();
    assert!(excluded.get("request_id").is_none(), "{excluded}");
    assert!(excluded.get("path").is_none(), "{excluded}");

    assert_eq!(reported(&output, "counts"), json!([1.0, 1.0, null]));
}

#[test]
fn in_flight_and_cancelled_requests_are_counted() {
    let output = o11y_child("in_flight_and_cancelled_requests_are_counted").run(|| {
        let _o11y = o11y::init().expect("init");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let active = || {
            let text = o11y::metrics::render(o11y::metrics::Format::Prometheus);
            sample_value(
                &text,
                "http_server_active_requests",
                &[("http_request_method", "GET")],
            )
        };
        let mut slow = Box::pin(app().oneshot(in_process("/slow")));
        runtime.block_on(async {
            tokio::select! {
                _ = &mut slow => panic!("/slow answered"),
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            }
        });
        let during = active();
        drop(slow);
        let text = o11y::metrics::render(o11y::metrics::Format::Prometheus);
        let cancelled = sample_value(
            &text,
            "http_server_request_duration_seconds_count",
            &[
                ("http_request_method", "GET"),
                ("http_route", "/slow"),
                ("http_response_status_code", "499"),
            ],
        );
        report("gauge", json!([during, active()]));
        report("cancelled", json!(cancelled));
    });
    assert_eq!(reported(&output, "gauge"), json!([1.0, 0.0]));
    assert_eq!(reported(&output, "cancelled"), json!(1.0));
    let lines = json_lines(&output);
    let finished: Vec<&Value> = lines
        .iter()
        .filter(|l| l["event"] == "request_finished")
        .collect();
    assert_eq!(finished.len(), 1, "{finished:#?}");
    assert_eq!(finished[0]["status"], 499, "{}", finished[0]);
    assert_eq!(finished[0]["error"], "cancelled", "{}", finished[0]);
    assert_eq!(finished[0]["path"], "/slow", "{}", finished[0]);
}

#[test]
fn before_init_requests_pass_through_untouched() {
    // No init() in this (parent) process: o11y is off.
    let (addr, _runtime) = serve(app());
    let response = get_from(addr, "/ids/off", &[]);
    assert_status(&response, 200);
    assert_eq!(response.header("x-request-id"), None);
    let seen = response.json();
    assert_eq!(seen["trace_id"], Value::Null, "{seen}");
    assert_eq!(seen["request_id"], Value::Null, "{seen}");
    let given = get_from(addr, "/ids/given", &[("X-Request-ID", "bad id!")]);
    assert_eq!(
        given.json()["request_id"],
        "bad id!",
        "not replaced when off"
    );
}

// ---------------------------------------------------------------------------
// Metrics, scraped by Prometheus

const SCRAPE_INTERVAL: Duration = Duration::from_secs(1);
const PROMETHEUS_WAIT: Duration = Duration::from_secs(30);
const UNKNOWN_METHODS: [&str; 5] = ["PURGE", "BREW", "LIST", "X-CUSTOM", "get"];
const RANDOM_PATHS: usize = 20;

/// (method, route, status) → count, of an instant query's result.
fn duration_counts(result: &[Value]) -> Vec<(String, String, String, String)> {
    let mut counts: Vec<(String, String, String, String)> = result
        .iter()
        .map(|series| {
            let label = |name: &str| {
                series["metric"][name]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            };
            (
                label("http_request_method"),
                label("http_route"),
                label("http_response_status_code"),
                series["value"][1].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    counts.sort();
    counts
}

fn expected_counts() -> Vec<(String, String, String, String)> {
    let mut expected: Vec<(String, String, String, String)> = [
        ("GET", "/orders/{id}", "200", 3),
        ("GET", "/forbidden", "403", 1),
        ("GET", "/boom", "500", 1),
        ("GET", "/panic/{how}", "500", 1),
        ("GET", "unmatched", "404", RANDOM_PATHS),
        ("_OTHER", "/orders/{id}", "405", UNKNOWN_METHODS.len()),
        ("_OTHER", "unmatched", "404", UNKNOWN_METHODS.len()),
    ]
    .iter()
    .map(|(m, r, s, n)| (m.to_string(), r.to_string(), s.to_string(), n.to_string()))
    .collect();
    expected.sort();
    expected
}

#[test]
fn prometheus_scrapes_red_metrics_with_bounded_labels() {
    let Some(prometheus) = common::Prometheus::start() else {
        return;
    };
    let output = o11y_child("prometheus_scrapes_red_metrics_with_bounded_labels")
        .timeout(Duration::from_secs(120))
        .run(|| {
            let _o11y = o11y::init().expect("init");
            let (addr, _runtime) = serve(app_catching_panics());
            for id in 1..=3 {
                assert_status(&get_from(addr, &format!("/orders/{id}"), &[]), 200);
            }
            assert_status(&get_from(addr, "/forbidden", &[]), 403);
            assert_status(&get_from(addr, "/boom", &[]), 500);
            assert_status(&get_from(addr, "/panic/caught", &[]), 500);
            for _ in 0..RANDOM_PATHS {
                let path = format!("/random/{}", common::random_hex(12));
                assert_status(&get_from(addr, &path, &[]), 404);
            }
            for method in UNKNOWN_METHODS {
                assert_status(&send(method, addr, "/orders/1", &[]), 405);
                assert_status(&send(method, addr, "/nowhere", &[]), 404);
            }
            assert_status(&get_from(addr, "/health", &[]), 200);

            let target = addr.to_string();
            report("target", json!(target));
            prometheus.add_scrape_target(&target, SCRAPE_INTERVAL);
            let series =
                format!("http_server_request_duration_seconds_count{{instance=\"{target}\"}}");
            prometheus.wait_for_query(&series, PROMETHEUS_WAIT, |result| {
                duration_counts(result) == expected_counts()
            });
            common::wait_until(
                PROMETHEUS_WAIT,
                || {
                    prometheus.query_exemplars(
                        &format!(
                            "http_server_request_duration_seconds_bucket{{instance=\"{target}\"}}"
                        ),
                        Duration::from_secs(300),
                    )
                },
                |answer| answer["data"].as_array().is_some_and(|s| !s.is_empty()),
                |answer| format!("exemplars: {answer}"),
            );
            report("scraped_at", json!(unix_now()));
            prometheus.remove_scrape_target(&target);
        });
    let target = reported(&output, "target").as_str().unwrap().to_owned();
    let scraped_at = reported(&output, "scraped_at").as_f64().unwrap();
    let at = |promql: &str| prometheus.query_vector_at(promql, scraped_at);

    // Exactly these series: every unknown method is `_OTHER`, every
    // unmatched path `unmatched`, excluded paths (and the scrapes) nowhere.
    let counts = at(&format!(
        "http_server_request_duration_seconds_count{{instance=\"{target}\"}}"
    ));
    assert_eq!(duration_counts(&counts), expected_counts());
    let buckets = at(&format!(
        "http_server_request_duration_seconds_bucket{{instance=\"{target}\"}}"
    ));
    let routes: BTreeSet<&str> = buckets
        .iter()
        .map(|s| s["metric"]["http_route"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        routes,
        BTreeSet::from([
            "/boom",
            "/forbidden",
            "/orders/{id}",
            "/panic/{how}",
            "unmatched"
        ])
    );
    let methods: BTreeSet<&str> = buckets
        .iter()
        .map(|s| {
            s["metric"]["http_request_method"]
                .as_str()
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(methods, BTreeSet::from(["GET", "_OTHER"]));
    // 7 series × (14 bounds + +Inf).
    assert_eq!(buckets.len(), 7 * 15, "{buckets:#?}");
    let sum = at(&format!(
        "http_server_request_duration_seconds_sum{{instance=\"{target}\",http_route=\"/orders/{{id}}\",http_response_status_code=\"200\"}}"
    ));
    let sum: f64 = sum[0]["value"][1].as_str().unwrap().parse().unwrap();
    assert!(sum > 0.0 && sum < 30.0, "{sum}");

    // Nothing in flight once the requests are answered.
    let active = at(&format!(
        "http_server_active_requests{{instance=\"{target}\"}}"
    ));
    let active: Vec<(String, String)> = active
        .iter()
        .map(|s| {
            (
                s["metric"]["http_request_method"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                s["value"][1].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(
        active,
        [("GET".into(), "0".into()), ("_OTHER".into(), "0".into())]
    );

    // Exemplars link durations to the traces of those requests.
    let lines = json_lines(&output);
    let traces: BTreeSet<&str> = lines
        .iter()
        .filter(|l| l["event"] == "request_finished")
        .filter_map(|l| l["trace_id"].as_str())
        .collect();
    assert_eq!(
        traces.len(),
        3 + 1 + 1 + 1 + RANDOM_PATHS + 2 * UNKNOWN_METHODS.len()
    );
    let answer = prometheus.query_exemplars(
        &format!("http_server_request_duration_seconds_bucket{{instance=\"{target}\"}}"),
        Duration::from_secs(600),
    );
    let mut exemplars = 0;
    for entry in answer["data"].as_array().into_iter().flatten() {
        for exemplar in entry["exemplars"].as_array().into_iter().flatten() {
            let trace_id = exemplar["labels"]["trace_id"].as_str().unwrap_or_default();
            assert!(
                traces.contains(trace_id),
                "{exemplar} not one of the requests"
            );
            assert!(is_hex(
                exemplar["labels"]["span_id"].as_str().unwrap_or_default(),
                16
            ));
            exemplars += 1;
        }
    }
    assert!(exemplars >= 1, "{answer}");
}
