//! `#[observe]` outcomes, through the public API: `Ok`, `Err`, a panic, a
//! cancelled future, early `return` and `?` each give the right `result`
//! label on `function_calls_total`, span status and `error.type` on the span
//! a real collector (rotel) received; and `err` / `ret` log what they say
//! (and nothing is logged without them).
// With the `off` feature, #[observe] returns the function untouched: what
// these tests check does not exist then; ui-tests/off covers that mode.
#![cfg(not(feature = "off"))]

use o11y_test_support as common;

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::{Pin, pin};
use std::task::{Context, Poll};
use std::time::Duration;

use common::exposition::sample_value;
use common::noop_context;
use common::scenario::{
    current_thread_runtime, json_lines, log_line, o11y_child, report, report_prometheus, reported,
    span_named,
};
use serde_json::{Value, json};

const MODULE: &str = "observe_outcomes";

// ---------------------------------------------------------------------------
// Observed functions.

#[derive(Debug, PartialEq)]
struct PaymentDeclined;

impl std::fmt::Display for PaymentDeclined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("card declined")
    }
}

#[derive(Debug)]
struct AppError(#[allow(dead_code)] std::num::ParseIntError);

impl From<std::num::ParseIntError> for AppError {
    fn from(error: std::num::ParseIntError) -> Self {
        AppError(error)
    }
}

/// The payload of a panic, to check it comes out of the observed call unchanged.
#[derive(Debug, PartialEq)]
struct Boom(u32);

#[o11y::observe]
fn charge_ok(amount: u32) -> Result<u32, PaymentDeclined> {
    Ok(amount * 2)
}

#[o11y::observe]
fn charge_declined(_amount: u32) -> Result<u32, PaymentDeclined> {
    Err(PaymentDeclined)
}

#[o11y::observe]
async fn charge_declined_async() -> Result<u32, PaymentDeclined> {
    tokio::task::yield_now().await;
    Err(PaymentDeclined)
}

#[o11y::observe]
fn explode(code: u32) -> u32 {
    if code > 0 {
        std::panic::panic_any(Boom(code));
    }
    code
}

#[o11y::observe]
fn explode_with_message(code: u32) -> Result<u32, PaymentDeclined> {
    if code > 0 {
        panic!("boom {code}");
    }
    Ok(code)
}

#[o11y::observe]
async fn explode_async(code: u32) -> u32 {
    if code > 0 {
        std::panic::panic_any(Boom(code));
    }
    code
}

/// Returns `Pending` on its first poll (waking the task), `Ready` after.
struct PendingOnce(bool);

impl Future for PendingOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

#[o11y::observe]
async fn pending_once() -> Result<u32, PaymentDeclined> {
    PendingOnce(false).await;
    Ok(7)
}

#[o11y::observe]
async fn slow_lookup() -> u32 {
    tokio::time::sleep(Duration::from_secs(30)).await;
    1
}

#[o11y::observe]
fn early(flag: u8) -> Result<&'static str, PaymentDeclined> {
    if flag == 0 {
        return Ok("zero");
    }
    if flag == 1 {
        return Err(PaymentDeclined);
    }
    Ok("other")
}

#[o11y::observe]
async fn early_async(flag: u8) -> Result<&'static str, PaymentDeclined> {
    if flag == 1 {
        return Err(PaymentDeclined);
    }
    tokio::task::yield_now().await;
    Ok("done")
}

#[o11y::observe]
fn parse_quantity(text: &str) -> Result<u32, std::num::ParseIntError> {
    let quantity: u32 = text.trim().parse()?;
    Ok(quantity * 10)
}

/// `?` converting the error: `error.type` is the declared `E`, not the source's.
#[o11y::observe]
fn load_quantity(text: &str) -> Result<u32, AppError> {
    let quantity = text.parse::<u32>()?;
    Ok(quantity)
}

#[o11y::observe]
fn plain_value() -> u32 {
    42
}

#[o11y::observe]
fn nothing_found() -> Option<u32> {
    None
}

#[o11y::observe]
fn unit_work() {
    std::hint::black_box(1);
}

// ---------------------------------------------------------------------------
// Helpers.

fn calls(text: &str, function: &str, result: &str) -> f64 {
    sample_value(
        text,
        "function_calls_total",
        &[
            ("function", function),
            ("module", MODULE),
            ("result", result),
        ],
    )
    .unwrap_or_else(|| {
        panic!("no function_calls_total{{function={function:?},result={result:?}}} in:\n{text}")
    })
}

fn duration_count(text: &str, function: &str) -> f64 {
    sample_value(
        text,
        "function_calls_duration_seconds_count",
        &[("function", function), ("module", MODULE)],
    )
    .unwrap_or_else(|| panic!("no duration histogram for {function} in:\n{text}"))
}

fn span_name(function: &str) -> String {
    format!("{MODULE}::{function}")
}

fn spans_named<'a>(spans: &'a [Value], function: &str) -> Vec<&'a Value> {
    common::named(spans, &span_name(function))
}

fn count_named(spans: &[Value], function: &str) -> usize {
    spans_named(spans, function).len()
}

fn assert_error_span(span: &Value, error_type: &str) {
    assert_eq!(span["status_code"], "error", "{span}");
    assert_eq!(span["attributes"]["error.type"], error_type, "{span}");
}

fn assert_ok_span(span: &Value) {
    assert_eq!(span["status_code"], "unset", "{span}");
    assert!(span["attributes"].get("error.type").is_none(), "{span}");
}

// ---------------------------------------------------------------------------
// Tests.

#[test]
fn results_errors_panics_and_cancellations_are_counted_and_marked() {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    let output = o11y_child("results_errors_panics_and_cancellations_are_counted_and_marked")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
        .run(|| {
            let guard = o11y::init().expect("init");
            let runtime = current_thread_runtime();

            // Ok and Err: the value comes back as the body returned it.
            assert_eq!(charge_ok(21), Ok(42));
            assert_eq!(charge_declined(5), Err(PaymentDeclined));
            assert_eq!(
                runtime.block_on(charge_declined_async()),
                Err(PaymentDeclined)
            );

            // Panics propagate unchanged, with their payload.
            let payload = catch_unwind(|| explode(7)).expect_err("the panic propagates");
            assert_eq!(
                payload.downcast_ref::<Boom>(),
                Some(&Boom(7)),
                "same payload"
            );
            assert_eq!(explode(0), 0);
            let payload = catch_unwind(|| explode_with_message(3)).expect_err("propagates");
            assert_eq!(
                payload.downcast_ref::<String>().map(String::as_str),
                Some("boom 3"),
                "same message"
            );
            let payload = catch_unwind(AssertUnwindSafe(|| {
                let mut future = pin!(explode_async(9));
                future.as_mut().poll(&mut noop_context())
            }))
            .expect_err("an async panic propagates");
            assert_eq!(payload.downcast_ref::<Boom>(), Some(&Boom(9)));

            // A future dropped after its first poll is cancelled; the same
            // function run to completion is ok.
            {
                let mut future = Box::pin(pending_once());
                assert!(future.as_mut().poll(&mut noop_context()).is_pending());
                drop(future);
            }
            assert_eq!(runtime.block_on(pending_once()), Ok(7));
            // Never polled: the call never started, so nothing is recorded.
            drop(pending_once());
            // And through tokio::time::timeout expiring.
            let timed_out = runtime.block_on(async {
                tokio::time::timeout(Duration::from_millis(20), slow_lookup()).await
            });
            assert!(timed_out.is_err(), "the timeout expires");

            // Early returns and `?`.
            assert_eq!(early(0), Ok("zero"));
            assert_eq!(early(1), Err(PaymentDeclined));
            assert_eq!(early(2), Ok("other"));
            assert_eq!(runtime.block_on(early_async(1)), Err(PaymentDeclined));
            assert_eq!(runtime.block_on(early_async(2)), Ok("done"));
            assert_eq!(parse_quantity(" 4 "), Ok(40));
            assert!(parse_quantity("four").is_err());
            assert!(load_quantity("x").is_err());

            // Not a Result: ok.
            assert_eq!(plain_value(), 42);
            assert_eq!(nothing_found(), None);
            unit_work();

            report_prometheus!("prometheus");
            drop(runtime);
            drop(guard);
        });
    let text = reported(&output, "prometheus");
    let text = text.as_str().unwrap();

    // (function, ok, error)
    let expected: &[(&str, f64, f64)] = &[
        ("charge_ok", 1.0, 0.0),
        ("charge_declined", 0.0, 1.0),
        ("charge_declined_async", 0.0, 1.0),
        ("explode", 1.0, 1.0),
        ("explode_with_message", 0.0, 1.0),
        ("explode_async", 0.0, 1.0),
        ("pending_once", 1.0, 1.0),
        ("slow_lookup", 0.0, 1.0),
        ("early", 2.0, 1.0),
        ("early_async", 1.0, 1.0),
        ("parse_quantity", 1.0, 1.0),
        ("load_quantity", 0.0, 1.0),
        ("plain_value", 1.0, 0.0),
        ("nothing_found", 1.0, 0.0),
        ("unit_work", 1.0, 0.0),
    ];
    for &(function, ok, error) in expected {
        assert_eq!(calls(text, function, "ok"), ok, "{function} ok");
        assert_eq!(calls(text, function, "error"), error, "{function} error");
        assert_eq!(
            duration_count(text, function),
            ok + error,
            "{function}: every call, whatever its outcome, has a duration"
        );
    }

    let total: usize = expected
        .iter()
        .map(|&(_, ok, error)| (ok + error) as usize)
        .sum();
    let spans = rotel.wait_for_spans(Duration::from_secs(15), |spans| {
        expected
            .iter()
            .all(|&(function, ok, error)| count_named(spans, function) == (ok + error) as usize)
    });
    assert_eq!(spans.len(), total, "one span per call and nothing else");

    let declined = std::any::type_name::<PaymentDeclined>();
    assert_eq!(declined, "observe_outcomes::PaymentDeclined");
    assert_ok_span(spans_named(&spans, "charge_ok")[0]);
    assert_error_span(spans_named(&spans, "charge_declined")[0], declined);
    assert_error_span(spans_named(&spans, "charge_declined_async")[0], declined);

    let explode = spans_named(&spans, "explode");
    assert_eq!(
        explode
            .iter()
            .filter(|s| s["attributes"]["error.type"] == "panic")
            .count(),
        1,
        "{explode:?}"
    );
    for span in explode {
        if span["status_code"] == "error" {
            assert_error_span(span, "panic");
        } else {
            assert_ok_span(span);
        }
    }
    assert_error_span(spans_named(&spans, "explode_with_message")[0], "panic");
    assert_error_span(spans_named(&spans, "explode_async")[0], "panic");

    let pending = spans_named(&spans, "pending_once");
    assert_eq!(
        pending
            .iter()
            .filter(|s| s["status_code"] == "error")
            .count(),
        1,
        "{pending:?}"
    );
    for span in pending {
        if span["status_code"] == "error" {
            assert_error_span(span, "cancelled");
        } else {
            assert_ok_span(span);
        }
    }
    assert_error_span(spans_named(&spans, "slow_lookup")[0], "cancelled");

    let early_spans = spans_named(&spans, "early");
    let errors: Vec<_> = early_spans
        .iter()
        .filter(|s| s["status_code"] == "error")
        .collect();
    assert_eq!(errors.len(), 1, "{early_spans:?}");
    assert_error_span(errors[0], declined);
    assert_error_span(
        spans_named(&spans, "parse_quantity")
            .into_iter()
            .find(|s| s["status_code"] == "error")
            .expect("the failed parse"),
        std::any::type_name::<std::num::ParseIntError>(),
    );
    assert_error_span(
        spans_named(&spans, "load_quantity")[0],
        std::any::type_name::<AppError>(),
    );
    for function in ["plain_value", "nothing_found", "unit_work"] {
        assert_ok_span(spans_named(&spans, function)[0]);
    }
}

#[o11y::observe(err)]
fn refund_logged(amount: u32) -> Result<u32, PaymentDeclined> {
    if amount > 100 {
        return Err(PaymentDeclined);
    }
    Ok(amount)
}

#[o11y::observe(err(level = "warn"))]
async fn refund_warned() -> Result<u32, PaymentDeclined> {
    tokio::task::yield_now().await;
    Err(PaymentDeclined)
}

#[o11y::observe]
fn refund_silent() -> Result<u32, PaymentDeclined> {
    Err(PaymentDeclined)
}

#[o11y::observe(ret)]
fn basket_total(items: u32) -> u32 {
    items * 3
}

#[o11y::observe(ret)]
async fn basket_lookup() -> Result<Vec<u8>, PaymentDeclined> {
    Ok(vec![1, 2])
}

#[test]
fn err_and_ret_log_what_they_say_and_nothing_else_is_logged() {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    let output = o11y_child("err_and_ret_log_what_they_say_and_nothing_else_is_logged")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
        .run(|| {
            let guard = o11y::init().expect("init");
            let runtime = current_thread_runtime();
            assert_eq!(refund_logged(500), Err(PaymentDeclined));
            assert_eq!(refund_logged(5), Ok(5), "Ok is not logged by `err`");
            assert_eq!(runtime.block_on(refund_warned()), Err(PaymentDeclined));
            assert_eq!(refund_silent(), Err(PaymentDeclined));
            assert_eq!(basket_total(4), 12);
            assert_eq!(runtime.block_on(basket_lookup()), Ok(vec![1, 2]));
            report("done", json!(true));
            drop(runtime);
            drop(guard);
        });
    let lines = json_lines(&output);
    let spans = rotel.wait_for_spans(Duration::from_secs(15), |spans| {
        [
            "refund_logged",
            "refund_warned",
            "refund_silent",
            "basket_total",
            "basket_lookup",
        ]
        .iter()
        .map(|f| count_named(spans, f))
        .sum::<usize>()
            == 6
    });

    // `err`: the error's Display, at error level, in the function's span.
    let failed = log_line(&lines, "refund_logged failed");
    assert_eq!(failed["level"], "error", "{failed}");
    assert_eq!(failed["error"], "card declined", "{failed}");
    let refund_span = spans_named(&spans, "refund_logged")
        .into_iter()
        .find(|s| s["status_code"] == "error")
        .expect("the failed refund's span");
    assert_eq!(failed["trace_id"], refund_span["trace_id"], "{failed}");
    assert_eq!(failed["span_id"], refund_span["span_id"], "{failed}");
    assert_error_span(refund_span, std::any::type_name::<PaymentDeclined>());

    // `err(level = "warn")`.
    let warned = log_line(&lines, "refund_warned failed");
    assert_eq!(warned["level"], "warn", "{warned}");
    assert_eq!(warned["error"], "card declined", "{warned}");
    let warned_span = span_named(&spans, &span_name("refund_warned"));
    assert_eq!(warned["trace_id"], warned_span["trace_id"], "{warned}");
    assert_eq!(warned["span_id"], warned_span["span_id"], "{warned}");

    // Without `err`, an error is on the span but never logged.
    let silent = span_named(&spans, &span_name("refund_silent"));
    assert_error_span(silent, std::any::type_name::<PaymentDeclined>());
    let logged_errors: Vec<&Value> = lines
        .iter()
        .filter(|line| line["level"] == "error" || line["level"] == "warn")
        .collect();
    assert_eq!(
        logged_errors.len(),
        2,
        "only the two `err` lines: {logged_errors:#?}"
    );
    assert!(
        lines
            .iter()
            .all(|line| !line.to_string().contains("refund_silent")),
        "{lines:#?}"
    );
    assert_eq!(
        lines
            .iter()
            .filter(|line| line["event"]
                .as_str()
                .is_some_and(|e| e.starts_with("refund_logged")))
            .count(),
        1,
        "the successful refund is not logged: {lines:#?}"
    );

    // `ret`: the return value (Debug), in the function's span.
    let returned = log_line(&lines, "basket_total returned");
    assert_eq!(returned["return"], "12", "{returned}");
    let total_span = span_named(&spans, &span_name("basket_total"));
    assert_eq!(returned["span_id"], total_span["span_id"], "{returned}");
    let returned = log_line(&lines, "basket_lookup returned");
    assert_eq!(returned["return"], "Ok([1, 2])", "{returned}");
    let lookup_span = span_named(&spans, &span_name("basket_lookup"));
    assert_eq!(returned["span_id"], lookup_span["span_id"], "{returned}");
}

// ---------------------------------------------------------------------------
// Regressions: a pending future dropped during another panic is cancelled,
// and a span's error message survives the guard.

#[o11y::observe]
async fn awaiting_stock() -> u32 {
    PendingOnce(false).await;
    1
}

#[o11y::observe]
fn reserve_stock() -> Result<u32, PaymentDeclined> {
    tracing::error!("warehouse unreachable");
    Err(PaymentDeclined)
}

#[o11y::observe(err)]
fn reserve_stock_logged() -> Result<u32, PaymentDeclined> {
    Err(PaymentDeclined)
}

/// A pending observed future that is dropped while a panic elsewhere
/// unwinds (another branch of a `join!`, the rest of a task) did not panic:
/// it was cancelled. Today the guard sees `thread::panicking()` and records
/// `error.type="panic"`.
#[test]
fn a_future_dropped_by_an_unrelated_panic_is_cancelled() {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    o11y_child("a_future_dropped_by_an_unrelated_panic_is_cancelled")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
        .run(|| {
            let guard = o11y::init().expect("init");
            let payload = catch_unwind(|| {
                let mut future = Box::pin(awaiting_stock());
                assert!(future.as_mut().poll(&mut noop_context()).is_pending());
                std::panic::panic_any(Boom(1)); // drops `future` while unwinding
            })
            .expect_err("the panic propagates");
            assert_eq!(payload.downcast_ref::<Boom>(), Some(&Boom(1)));
            drop(guard);
        });
    let spans = rotel.wait_for_spans(Duration::from_secs(15), |spans| !spans.is_empty());
    assert_error_span(
        span_named(&spans, &span_name("awaiting_stock")),
        "cancelled",
    );
}

/// An error status set inside the body (a `tracing::error!`, or the `err`
/// event) keeps its message: today the guard's `set_error(.., None)`
/// replaces it with an empty one.
#[test]
fn an_error_status_keeps_its_message() {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    o11y_child("an_error_status_keeps_its_message")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
        .run(|| {
            let guard = o11y::init().expect("init");
            assert!(reserve_stock().is_err());
            assert!(reserve_stock_logged().is_err());
            drop(guard);
        });
    let spans = rotel.wait_for_spans(Duration::from_secs(15), |spans| spans.len() >= 2);
    let plain = span_named(&spans, &span_name("reserve_stock"));
    assert_error_span(plain, std::any::type_name::<PaymentDeclined>());
    assert_eq!(plain["status_message"], "warehouse unreachable", "{plain}");
    let logged = span_named(&spans, &span_name("reserve_stock_logged"));
    assert_error_span(logged, std::any::type_name::<PaymentDeclined>());
    assert_ne!(logged["status_message"], "", "{logged}");
}

// ---------------------------------------------------------------------------
// An impl block's `err` follows the returned type, not its name.

type Fallible<T> = Result<T, PaymentDeclined>;

/// Named like a `Result`, but a plain struct: nothing to log.
#[derive(Debug, PartialEq)]
struct SearchResult {
    hits: usize,
}

struct Catalog;

#[o11y::observe(err)]
impl Catalog {
    fn reserve(&self, count: u32) -> Fallible<u32> {
        if count > 5 {
            return Err(PaymentDeclined);
        }
        Ok(count)
    }

    fn search(&self, query: &str) -> SearchResult {
        SearchResult { hits: query.len() }
    }

    async fn reserve_async(&self) -> Fallible<u32> {
        tokio::task::yield_now().await;
        Err(PaymentDeclined)
    }
}

#[test]
fn an_impl_blocks_err_logs_results_under_any_name_and_skips_other_types() {
    let output = o11y_child("an_impl_blocks_err_logs_results_under_any_name_and_skips_other_types")
        .run(|| {
            let guard = o11y::init().expect("init");
            assert_eq!(Catalog.reserve(9), Err(PaymentDeclined));
            assert_eq!(Catalog.reserve(1), Ok(1));
            assert_eq!(Catalog.search("shoes"), SearchResult { hits: 5 });
            let runtime = current_thread_runtime();
            assert_eq!(
                runtime.block_on(Catalog.reserve_async()),
                Err(PaymentDeclined)
            );
            report_prometheus!("prometheus");
            drop(runtime);
            drop(guard);
        });
    let lines = json_lines(&output);
    // The alias: logged, once (the `Ok` is not), in the method's span.
    for method in ["Catalog::reserve", "Catalog::reserve_async"] {
        let failed = log_line(&lines, &format!("{method} failed"));
        assert_eq!(failed["level"], "error", "{failed}");
        assert_eq!(failed["error"], "card declined", "{failed}");
        assert!(failed["span_id"].is_string(), "{failed}");
    }
    // The struct: compiled, observed, never logged.
    assert!(
        lines
            .iter()
            .all(|line| !line.to_string().contains("Catalog::search")),
        "{lines:#?}"
    );
    let text = reported(&output, "prometheus");
    assert_eq!(calls(text.as_str().unwrap(), "Catalog::search", "ok"), 1.0);
}

// ---------------------------------------------------------------------------
// A function returning `impl Future` (its tail an `async move` block, or
// another function's future): the future is the work, measured from its
// first poll to its output.

const SETTLE_MS: u64 = 50;

#[o11y::observe(err)]
fn settle_later(delay_ms: u64) -> impl Future<Output = Result<u32, PaymentDeclined>> {
    let delay = Duration::from_millis(delay_ms);
    async move {
        tokio::time::sleep(delay).await;
        Err(PaymentDeclined)
    }
}

/// Returns another function's future (no `async` block of its own).
#[o11y::observe(err)]
fn settle_via(delay_ms: u64) -> impl Future<Output = Result<u32, PaymentDeclined>> {
    settle_later(delay_ms)
}

#[test]
fn a_returned_future_is_measured_until_its_output() {
    let output = o11y_child("a_returned_future_is_measured_until_its_output").run(|| {
        let guard = o11y::init().expect("init");
        let runtime = current_thread_runtime();
        assert_eq!(
            runtime.block_on(settle_via(SETTLE_MS)),
            Err(PaymentDeclined)
        );
        report_prometheus!("prometheus");
        drop(runtime);
        drop(guard);
    });
    let text = reported(&output, "prometheus");
    let text = text.as_str().unwrap();
    let lines = json_lines(&output);
    // `settle_via` returns the future of `settle_later`, a tail `async move`.
    for function in ["settle_via", "settle_later"] {
        assert_eq!(calls(text, function, "error"), 1.0, "{text}");
        assert!(
            sample_value(
                text,
                "function_calls_total",
                &[("function", function), ("result", "ok")]
            )
            .is_none_or(|ok| ok == 0.0)
        );
        let duration = sample_value(
            text,
            "function_calls_duration_seconds_sum",
            &[("function", function), ("module", MODULE)],
        )
        .unwrap();
        assert!(
            duration >= SETTLE_MS as f64 / 1000.0,
            "{function}: the call lasts the sleep: {duration}s"
        );
        let failed = log_line(&lines, &format!("{function} failed"));
        assert_eq!(failed["error"], "card declined", "{failed}");
    }
}
