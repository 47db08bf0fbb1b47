//! Tail sampling (`tracing.keep_errors`, `tracing.keep_slower_than`) through
//! the public API, with rotel as the collector: at head rate 0, a failing
//! request's whole local trace arrives (server span, observed calls, SQLite
//! queries, an outbound call, a task spawned inside it) with
//! `o11y.sampling.reason = error`, a slow one with `slow`, a fast successful
//! one not at all; a head-sampled one says `head`; a trace over the
//! per-trace cap arrives truncated and its drops are counted; a flood of
//! held traces stays under the byte cap (RSS measured) and counts its
//! drops. Log lines of a kept trace carry its ids; exemplars only point at
//! head-sampled spans.
//!
//! Tests that call `o11y::init()` run their body in a child process (see
//! `tests/support`).
//!
//! Longer than 500 lines because the two services of the app under test,
//! the readers of what rotel received and four scenarios of their own
//! configuration are one file: the scenarios share the app.
#![cfg(all(
    feature = "axum",
    feature = "reqwest",
    feature = "sqlx",
    not(feature = "off")
))]

use o11y_test_support as common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use common::exposition::sample_value;
use common::http::{assert_status, get_from};
use common::scenario::{json_lines, o11y_child, report, reported};
use common::server::{runtime, serve_on};
use o11y::http::reqwest_middleware::ClientWithMiddleware;
use serde_json::{Value, json};
use tracing::Instrument;

// ---------------------------------------------------------------------------
// The app under test: service A, which calls service B.

#[derive(Clone)]
struct App {
    client: ClientWithMiddleware,
    pool: sqlx::SqlitePool,
    /// Service B, which A calls for stock.
    b: SocketAddr,
}

#[derive(Debug)]
struct PaymentDeclined;

impl std::fmt::Display for PaymentDeclined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("payment declined")
    }
}

impl std::error::Error for PaymentDeclined {}

#[o11y::observe]
async fn load_cart(pool: &sqlx::SqlitePool) -> i64 {
    sqlx::query("SELECT 1").execute(pool).await.expect("query");
    let (count,): (i64,) = sqlx::query_as("SELECT 2")
        .fetch_one(pool)
        .await
        .expect("query");
    count
}

#[o11y::observe]
async fn check_stock(app: &App) -> u16 {
    let url = format!("http://{}/stock", app.b);
    let response = app.client.get(url).send().await.expect("B answers");
    response.status().as_u16()
}

/// Spawned by a request and not awaited: it outlives the response.
#[o11y::observe]
async fn send_receipt() {
    tokio::time::sleep(Duration::from_millis(100)).await;
}

#[o11y::observe(err)]
fn charge() -> Result<(), PaymentDeclined> {
    Err(PaymentDeclined)
}

#[o11y::observe]
async fn checkout(app: &App) -> Result<(), PaymentDeclined> {
    tracing::info!("checking out");
    load_cart(&app.pool).await;
    assert_eq!(check_stock(app).await, 200);
    tokio::spawn(send_receipt().in_current_span());
    charge()
}

async fn fail(State(app): State<App>) -> StatusCode {
    match checkout(&app).await {
        Ok(()) => StatusCode::OK,
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

#[o11y::observe]
async fn render_report() {
    tokio::time::sleep(Duration::from_millis(400)).await;
}

#[o11y::observe]
fn quick() -> &'static str {
    "ok"
}

#[o11y::observe]
fn step(i: u32) -> u32 {
    i + 1
}

/// Thirty observed steps, then a 500: a trace over a small per-trace cap.
async fn wide() -> StatusCode {
    (0..30).for_each(|i| {
        step(i);
    });
    StatusCode::INTERNAL_SERVER_ERROR
}

fn service_b() -> Router {
    Router::new()
        .route("/stock", get(|| async { "in stock" }))
        .layer(o11y::http::layer())
}

/// Both services on `runtime`, A calling B; returns A's address.
fn services(runtime: &tokio::runtime::Runtime) -> SocketAddr {
    let b = serve_on(runtime, service_b());
    let pool = runtime.block_on(async {
        sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .expect("an in-memory SQLite database")
    });
    let app = App {
        client: o11y::http::client(reqwest::Client::new()),
        pool,
        b,
    };
    let a = Router::new()
        .route("/fail", get(fail))
        .route(
            "/slow",
            get(|| async {
                render_report().await;
                "report"
            }),
        )
        .route("/ok", get(|| async { quick() }))
        .route("/wide", get(wide))
        .with_state(app)
        .layer(o11y::http::layer());
    serve_on(runtime, a)
}

// ---------------------------------------------------------------------------
// Reading what rotel received.

fn reason(span: &Value) -> &str {
    span["attributes"]["o11y.sampling.reason"]
        .as_str()
        .unwrap_or_default()
}

/// The one server span of a request for `path`.
#[track_caller]
fn server_span<'a>(spans: &'a [Value], path: &str) -> &'a Value {
    let found: Vec<&Value> = spans
        .iter()
        .filter(|s| s["kind"] == "server" && s["attributes"]["url.path"] == path)
        .collect();
    assert_eq!(found.len(), 1, "one server span for {path}:\n{spans:#?}");
    found[0]
}

fn of_trace<'a>(spans: &'a [Value], trace_id: &Value) -> Vec<&'a Value> {
    spans
        .iter()
        .filter(|s| &s["trace_id"] == trace_id)
        .collect()
}

/// The names of `spans`, sorted.
fn names(spans: &[&Value]) -> Vec<String> {
    let mut names: Vec<String> = spans
        .iter()
        .map(|s| s["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    names.sort();
    names
}

/// The exemplars of the request duration buckets of `route`, in an
/// OpenMetrics text: `(trace_id, span_id)` each.
fn exemplars_of(text: &str, route: &str) -> Vec<(String, String)> {
    let route = format!("http_route=\"{route}\"");
    text.lines()
        .filter(|line| {
            line.starts_with("http_server_request_duration_seconds_bucket") && line.contains(&route)
        })
        .filter_map(|line| line.split_once(" # {"))
        .map(|(_, exemplar)| {
            let value = |key: &str| {
                let start = exemplar.find(&format!("{key}=\"")).expect(key) + key.len() + 2;
                exemplar[start..start + exemplar[start..].find('"').expect("quoted")].to_owned()
            };
            (value("trace_id"), value("span_id"))
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Tests

#[test]
fn at_head_rate_0_failing_and_slow_traces_arrive_whole_and_fast_ones_do_not() {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    let output =
        o11y_child("at_head_rate_0_failing_and_slow_traces_arrive_whole_and_fast_ones_do_not")
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
            .env("O11Y_TRACING_SAMPLE_RATE", "0")
            .env("O11Y_TRACING_KEEP_ERRORS", "true")
            .env("O11Y_TRACING_KEEP_SLOWER_THAN", "250ms")
            .run(|| {
                let guard = o11y::init().expect("init");
                let runtime = runtime();
                let a = services(&runtime);
                assert_status(&get_from(a, "/fail", &[]), 500);
                assert_status(&get_from(a, "/slow", &[]), 200);
                for _ in 0..3 {
                    assert_status(&get_from(a, "/ok", &[]), 200);
                }
                // The receipt task ends after the response: its trace with it.
                std::thread::sleep(Duration::from_millis(300));
                report_text_of_metrics();
                drop(runtime);
                drop(guard);
            });
    assert!(output.success(), "{}", output.combined());

    rotel.wait_for_spans(Duration::from_secs(15), |spans| {
        spans.iter().any(|s| s["attributes"]["url.path"] == "/slow")
            && spans
                .iter()
                .any(|s| s["name"] == "tail_sampling::send_receipt")
    });
    std::thread::sleep(Duration::from_millis(500));
    let spans = rotel.spans();

    // The failing request: every span of A's local trace, reason `error`.
    let fail = server_span(&spans, "/fail");
    let trace = of_trace(&spans, &fail["trace_id"]);
    let mut expected = vec![
        "GET /fail",
        "tail_sampling::checkout",
        "tail_sampling::load_cart",
        "SELECT",
        "SELECT",
        "tail_sampling::check_stock",
        "GET",
        "tail_sampling::send_receipt",
        "tail_sampling::charge",
    ];
    expected.sort_unstable();
    assert_eq!(names(&trace), expected, "{trace:#?}");
    for span in &trace {
        assert_eq!(reason(span), "error", "{span}");
    }
    assert_eq!(fail["status_code"], "error", "{fail}");
    let client = trace
        .iter()
        .find(|s| s["kind"] == "client" && s["scope"] == "o11y::http")
        .expect("the outbound call's span");
    assert_eq!(
        client["attributes"]["http.response.status_code"], 200,
        "{client}"
    );
    // B's side of the call is a local trace of B's own: its caller sent
    // `sampled=0` (the head decision) and it neither failed nor was slow.
    assert!(
        spans
            .iter()
            .all(|s| s["attributes"]["url.path"] != "/stock"),
        "{spans:#?}"
    );

    // The slow request: reason `slow`.
    let slow = server_span(&spans, "/slow");
    let trace = of_trace(&spans, &slow["trace_id"]);
    assert_eq!(names(&trace), ["GET /slow", "tail_sampling::render_report"]);
    for span in &trace {
        assert_eq!(reason(span), "slow", "{span}");
    }

    // Fast, successful requests: nothing at all.
    assert!(
        spans
            .iter()
            .all(|s| s["attributes"]["url.path"] != "/ok" && s["name"] != "tail_sampling::quick"),
        "{spans:#?}"
    );

    // The log lines of the kept trace carry its ids.
    let lines = json_lines(&output);
    let line = common::scenario::log_line(&lines, "checking out");
    assert_eq!(line["trace_id"], fail["trace_id"], "{line}");
    let checkout = common::scenario::span_named(&spans, "tail_sampling::checkout");
    assert_eq!(line["span_id"], checkout["span_id"], "{line}");

    // No exemplar points at a span held for the tail rules: at rate 0,
    // none at all, though /fail's and /slow's spans were exported.
    let metrics = reported(&output, "openmetrics");
    let text = metrics.as_str().expect("text");
    for route in ["/fail", "/slow", "/ok"] {
        assert_eq!(exemplars_of(text, route), [], "{route}:\n{text}");
    }
}

/// In the child: the metrics as OpenMetrics (exemplars) and Prometheus text.
fn report_text_of_metrics() {
    common::scenario::report_text(
        "openmetrics",
        o11y::metrics::render(o11y::metrics::Format::OpenMetrics),
    );
    common::report_prometheus!("prometheus");
}

#[test]
fn head_sampled_traces_say_head_and_their_exemplars_point_at_exported_spans() {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    let output =
        o11y_child("head_sampled_traces_say_head_and_their_exemplars_point_at_exported_spans")
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
            .env("O11Y_TRACING_SAMPLE_RATE", "1")
            .env("O11Y_TRACING_KEEP_ERRORS", "true")
            .env("O11Y_TRACING_KEEP_SLOWER_THAN", "250ms")
            .run(|| {
                let guard = o11y::init().expect("init");
                let runtime = runtime();
                let a = services(&runtime);
                assert_status(&get_from(a, "/ok", &[]), 200);
                report_text_of_metrics();
                drop(runtime);
                drop(guard);
            });
    assert!(output.success(), "{}", output.combined());

    rotel.wait_for_spans(Duration::from_secs(15), |spans| {
        spans.iter().any(|s| s["attributes"]["url.path"] == "/ok")
    });
    std::thread::sleep(Duration::from_millis(300));
    let spans = rotel.spans();
    let ok = server_span(&spans, "/ok");
    let trace = of_trace(&spans, &ok["trace_id"]);
    assert_eq!(names(&trace), ["GET /ok", "tail_sampling::quick"]);
    for span in &trace {
        assert_eq!(reason(span), "head", "{span}");
    }
    let metrics = reported(&output, "openmetrics");
    let exemplars = exemplars_of(metrics.as_str().expect("text"), "/ok");
    assert_eq!(
        exemplars,
        [(
            ok["trace_id"].as_str().unwrap_or_default().to_owned(),
            ok["span_id"].as_str().unwrap_or_default().to_owned()
        )],
        "{metrics}"
    );
}

#[test]
fn a_trace_over_the_per_trace_cap_arrives_truncated_and_its_drops_are_counted() {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    let output =
        o11y_child("a_trace_over_the_per_trace_cap_arrives_truncated_and_its_drops_are_counted")
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
            .env("O11Y_TRACING_SAMPLE_RATE", "0")
            .env("O11Y_TRACING_KEEP_ERRORS", "true")
            .env("O11Y_TRACING_TAIL_MAX_SPANS_PER_TRACE", "10")
            .run(|| {
                let guard = o11y::init().expect("init");
                let runtime = runtime();
                let a = services(&runtime);
                assert_status(&get_from(a, "/wide", &[]), 500);
                let stats = o11y::export::stats();
                report("tail_dropped", json!(stats.spans_tail_dropped));
                report_text_of_metrics();
                drop(runtime);
                drop(guard);
            });
    assert!(output.success(), "{}", output.combined());

    rotel.wait_for_spans(Duration::from_secs(15), |spans| {
        spans.iter().any(|s| s["attributes"]["url.path"] == "/wide")
    });
    std::thread::sleep(Duration::from_millis(500));
    let spans = rotel.spans();
    let wide = server_span(&spans, "/wide");
    let trace = of_trace(&spans, &wide["trace_id"]);
    // The first ten steps held, then the cap; the root always arrives.
    assert_eq!(trace.len(), 11, "{trace:#?}");
    assert_eq!(
        trace
            .iter()
            .filter(|s| s["name"] == "tail_sampling::step")
            .count(),
        10
    );
    for span in &trace {
        assert_eq!(reason(span), "error", "{span}");
    }
    assert_eq!(reported(&output, "tail_dropped"), 20);
    let prometheus = reported(&output, "prometheus");
    let text = prometheus.as_str().expect("text");
    assert_eq!(
        sample_value(
            text,
            "o11y_spans_dropped_total",
            &[("reason", "tail_trace_cap")]
        ),
        Some(20.0),
        "{text}"
    );
}

/// Resident memory of this process, in bytes (Linux).
fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|field| field.parse().ok())
        .expect("resident pages");
    pages * 4096
}

/// A trace of `spans` children with a 1 KiB attribute each, held open at
/// `held` until the test has measured, then slow enough to be kept.
#[o11y::observe]
async fn flood_trace(spans: usize, held: Arc<tokio::sync::Barrier>) {
    let payload = "x".repeat(1024);
    for step in 0..spans {
        tracing::info_span!("flood_step", step, payload = payload.as_str()).in_scope(|| {});
    }
    held.wait().await; // every trace's spans are held now
    held.wait().await; // measured
    tokio::time::sleep(Duration::from_millis(5)).await;
}

#[test]
fn a_flood_of_concurrent_slow_traces_stays_under_the_byte_cap_and_counts_drops() {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    const TRACES: usize = 100;
    const SPANS: usize = 500;
    const CAP: u64 = 4 << 20;
    let output =
        o11y_child("a_flood_of_concurrent_slow_traces_stays_under_the_byte_cap_and_counts_drops")
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
            .env("O11Y_TRACING_SAMPLE_RATE", "0")
            .env("O11Y_TRACING_KEEP_SLOWER_THAN", "1ms")
            .env("O11Y_TRACING_TAIL_MAX_SPANS_PER_TRACE", "100000")
            .env("O11Y_TRACING_TAIL_MAX_BYTES", "4MiB")
            .run(|| {
                let guard = o11y::init().expect("init");
                let runtime = runtime();
                // A first, small round: the allocator's pools and the
                // runtime's threads exist before the baseline.
                let warm = Arc::new(tokio::sync::Barrier::new(1));
                runtime.block_on(flood_trace(SPANS, warm));
                o11y::flush(Duration::from_secs(5));
                let before = rss_bytes();
                let held = Arc::new(tokio::sync::Barrier::new(TRACES + 1));
                let tasks: Vec<_> = (0..TRACES)
                    .map(|_| runtime.spawn(flood_trace(SPANS, held.clone())))
                    .collect();
                runtime.block_on(held.wait());
                let during = rss_bytes();
                let dropped = o11y::export::stats().spans_tail_dropped;
                runtime.block_on(held.wait());
                runtime.block_on(async {
                    for task in tasks {
                        task.await.expect("trace");
                    }
                });
                report(
                    "flood",
                    json!({ "before": before, "during": during, "dropped": dropped }),
                );
                drop(runtime);
                drop(guard);
            });
    assert!(output.success(), "{}", output.combined());
    let flood = reported(&output, "flood");
    let (before, during, dropped) = (
        flood["before"].as_u64().expect("before"),
        flood["during"].as_u64().expect("during"),
        flood["dropped"].as_u64().expect("dropped"),
    );
    let grown = during.saturating_sub(before);
    eprintln!(
        "RSS grew by {} KiB while the flood was held; {dropped} spans dropped",
        grown / 1024
    );
    let total = (TRACES * SPANS) as u64;
    // Every span is over 1 KiB held: the cap holds at most this many.
    let fit = CAP / 1024;
    assert!(
        dropped >= total - fit,
        "{dropped} of {total} spans dropped; at most {fit} fit in the cap"
    );
    // Held in full, the flood's spans took 74 MiB of RSS in one run.
    assert!(
        grown < CAP + (12 << 20),
        "RSS grew by {grown} bytes with a cap of {CAP}"
    );
    rotel.wait_for_spans(Duration::from_secs(15), |spans| {
        spans
            .iter()
            .filter(|s| s["name"] == "tail_sampling::flood_trace")
            .count()
            > TRACES
    });
    let spans = rotel.spans();
    for span in spans.iter().filter(|s| s["name"] == "flood_step") {
        assert_eq!(reason(span), "slow", "{span}");
    }
}
