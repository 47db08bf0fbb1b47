//! `#[observe]` spans, through the public API and a real collector (rotel):
//! `fields(...)` on the span and in every log line inside (nested calls
//! too), arguments captured only when named, generic functions sharing one
//! series, `Type::method` names from an observed `impl` block (with
//! `#[observe(skip)]` opting out), trait impls with native `async fn`, one
//! parent/child chain through a user's `#[tracing::instrument]`, and a
//! cancelled async call dropping its body within its span.
// With the `off` feature, #[observe] returns the function untouched: what
// these tests check does not exist then; ui-tests/off covers that mode.
#![cfg(not(feature = "off"))]

use o11y_test_support as common;

use std::fmt::Debug;
use std::time::Duration;

use common::exposition::{Sample, samples, series_of};
use common::scenario::{
    current_thread_runtime, json_lines, log_line, o11y_child, report_prometheus, reported,
    span_named,
};
use serde_json::Value;

const MODULE: &str = "observe_spans";
const SECRET: &str = "hunter2-do-not-leak";

// ---------------------------------------------------------------------------
// Helpers.

/// `function_calls_total{function, result}` (whatever the module), or 0.
fn calls(all: &[Sample], function: &str, result: &str) -> f64 {
    let found: Vec<&Sample> = series_of(all, "function_calls_total", function)
        .into_iter()
        .filter(|s| s.label("result") == result)
        .collect();
    assert!(
        found.len() <= 1,
        "{function}/{result}: {} series",
        found.len()
    );
    found.first().map_or(0.0, |s| s.value)
}

fn fn_span(function: &str) -> String {
    format!("{MODULE}::{function}")
}

fn attribute_keys(span: &Value) -> Vec<String> {
    span["attributes"]
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------
// fields and arguments

#[derive(Debug)]
struct Tags(Vec<&'static str>);

#[o11y::observe(fields(order_id = id, customer = %customer, tags = ?tags))]
fn place_order(id: u64, customer: &str, tags: Tags, password: &str) -> usize {
    tracing::info!(step = "validate", "placing order");
    let checked = check_stock(id);
    password.len() + tags.0.len() + checked as usize
}

/// `fields(id)`: the shorthand of `fields(id = id)`, a parameter by name.
#[o11y::observe(fields(id, sku = id * 10))]
fn check_stock(id: u64) -> bool {
    tracing::info!("checking stock");
    id > 0
}

/// No `fields`, no `args`: nothing of the arguments is recorded.
#[o11y::observe]
fn login(user: &str, password: &str) -> bool {
    tracing::info!("logging in");
    user.len() < password.len()
}

#[o11y::observe(args(account))]
fn transfer(account: u32, memo: &str, password: &str) -> usize {
    tracing::info!("transferring");
    account as usize + memo.len() + password.len()
}

#[o11y::observe(args, skip(password))]
async fn rotate_key(user: String, attempts: u32, password: String) -> usize {
    tokio::task::yield_now().await;
    tracing::info!("rotating key");
    user.len() + attempts as usize + password.len()
}

#[test]
fn fields_reach_span_and_log_lines_and_arguments_stay_out_unless_named() {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    let output = o11y_child("fields_reach_span_and_log_lines_and_arguments_stay_out_unless_named")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
        .run(|| {
            let guard = o11y::init().expect("init");
            let runtime = current_thread_runtime();
            assert_eq!(
                place_order(7, "alice", Tags(vec!["gift", "express"]), SECRET),
                22
            );
            assert!(login("bob", SECRET));
            assert_eq!(transfer(3, "rent", SECRET), 3 + 4 + SECRET.len());
            assert_eq!(
                runtime.block_on(rotate_key("carol".into(), 2, SECRET.into())),
                7 + SECRET.len()
            );
            drop(runtime);
            drop(guard);
        });
    let lines = json_lines(&output);
    let spans = rotel.wait_for_spans(Duration::from_secs(15), |spans| spans.len() >= 5);

    // fields(...): span attributes, with their sigils.
    let order = span_named(&spans, &fn_span("place_order"));
    assert_eq!(order["attributes"]["order_id"], 7, "{order}");
    assert_eq!(order["attributes"]["customer"], "alice", "{order}");
    assert_eq!(
        order["attributes"]["tags"], "Tags([\"gift\", \"express\"])",
        "{order}"
    );
    // ... and fields of every log line inside, with the span's ids.
    let placing = log_line(&lines, "placing order");
    assert_eq!(placing["order_id"], 7, "{placing}");
    assert_eq!(placing["customer"], "alice", "{placing}");
    assert_eq!(
        placing["tags"], "Tags([\"gift\", \"express\"])",
        "{placing}"
    );
    assert_eq!(placing["step"], "validate", "{placing}");
    assert_eq!(placing["trace_id"], order["trace_id"], "{placing}");
    assert_eq!(placing["span_id"], order["span_id"], "{placing}");
    // ... including lines of nested observed calls, which add their own.
    let stock = span_named(&spans, &fn_span("check_stock"));
    assert_eq!(stock["attributes"]["sku"], 70, "{stock}");
    assert_eq!(stock["attributes"]["id"], 7, "{stock}");
    assert_eq!(stock["parent_span_id"], order["span_id"]);
    assert_eq!(stock["trace_id"], order["trace_id"]);
    let checking = log_line(&lines, "checking stock");
    assert_eq!(checking["order_id"], 7, "{checking}");
    assert_eq!(checking["customer"], "alice", "{checking}");
    assert_eq!(checking["sku"], 70, "{checking}");
    assert_eq!(checking["id"], 7, "{checking}");
    assert_eq!(checking["span_id"], stock["span_id"], "{checking}");
    // `fields` does not capture the other arguments.
    let mut keys = attribute_keys(order);
    keys.retain(|k| !k.starts_with("code.") && !k.starts_with("thread."));
    keys.sort();
    assert_eq!(keys, ["customer", "order_id", "tags"], "{order}");

    // Nothing by default.
    let login_span = span_named(&spans, &fn_span("login"));
    for key in ["user", "password"] {
        assert!(login_span["attributes"].get(key).is_none(), "{login_span}");
    }
    let logging_in = log_line(&lines, "logging in");
    assert!(
        logging_in.get("user").is_none() && logging_in.get("password").is_none(),
        "{logging_in}"
    );
    assert_eq!(logging_in["span_id"], login_span["span_id"]);

    // args(account): that one only.
    let transfer_span = span_named(&spans, &fn_span("transfer"));
    assert_eq!(transfer_span["attributes"]["account"], 3, "{transfer_span}");
    assert!(
        transfer_span["attributes"].get("memo").is_none(),
        "{transfer_span}"
    );
    let transferring = log_line(&lines, "transferring");
    assert_eq!(transferring["account"], 3, "{transferring}");
    assert!(transferring.get("memo").is_none(), "{transferring}");

    // Bare args, skip(password): every other parameter.
    let rotate = span_named(&spans, &fn_span("rotate_key"));
    assert_eq!(rotate["attributes"]["user"], "carol", "{rotate}");
    assert_eq!(rotate["attributes"]["attempts"], 2, "{rotate}");
    let rotating = log_line(&lines, "rotating key");
    assert_eq!(rotating["user"], "carol", "{rotating}");
    assert_eq!(rotating["attempts"], 2, "{rotating}");

    // The password is nowhere: not a key, not a value, in no span, no line.
    for span in &spans {
        assert!(span["attributes"].get("password").is_none(), "{span}");
        assert!(!span.to_string().contains(SECRET), "{span}");
    }
    for line in &lines {
        assert!(line.get("password").is_none(), "{line}");
    }
    assert!(
        !output.combined().contains(SECRET),
        "the secret leaked into the output:\n{}",
        output.combined()
    );
}

// ---------------------------------------------------------------------------
// generic functions, impl blocks, trait impls

#[o11y::observe]
fn describe<T: Debug>(value: T) -> String {
    format!("{value:?}")
}

// The explicit lifetime is the case under test (with `off`, clippy sees it as written).
#[allow(clippy::needless_lifetimes)]
#[o11y::observe]
fn first_word<'a, S>(text: &'a S) -> &'a str
where
    S: AsRef<str> + ?Sized,
{
    text.as_ref().split(' ').next().unwrap_or("")
}

#[derive(Default)]
struct OrderRepo {
    saved: u32,
}

#[derive(Debug)]
struct NotFound;

#[o11y::observe]
impl OrderRepo {
    fn get(&self, id: u64) -> Result<u64, NotFound> {
        if id == 0 { Err(NotFound) } else { Ok(id) }
    }

    async fn save(&mut self) -> u32 {
        tokio::task::yield_now().await;
        self.saved += 1;
        self.saved
    }

    #[observe(skip)]
    fn cache_key(&self, id: u64) -> String {
        tracing::info!("computing a cache key");
        format!("order:{id}")
    }
}

trait Store {
    async fn load(&self, id: u64) -> Result<u64, NotFound>;
}

struct MemoryStore;

#[o11y::observe]
impl Store for MemoryStore {
    async fn load(&self, id: u64) -> Result<u64, NotFound> {
        tokio::task::yield_now().await;
        if id == 0 { Err(NotFound) } else { Ok(id * 2) }
    }
}

struct DiskStore;

impl Store for DiskStore {
    #[o11y::observe]
    async fn load(&self, id: u64) -> Result<u64, NotFound> {
        tokio::task::yield_now().await;
        Ok(id + 1)
    }
}

/// Two types with a `find` each, observed method by method: the attribute
/// cannot see their types, which the runtime reads, so they do not merge.
struct ItemRepo;

impl ItemRepo {
    #[o11y::observe]
    fn find(&self, id: u64) -> Option<u64> {
        Some(id)
    }
}

struct UserRepo;

impl UserRepo {
    #[o11y::observe]
    async fn find(&self, id: u64) -> Option<u64> {
        tokio::task::yield_now().await;
        (id > 1).then_some(id)
    }
}

fn assert_send<F: Send>(future: F) {
    drop(future);
}

#[test]
fn generics_share_a_series_and_methods_are_named_after_their_type() {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    let output = o11y_child("generics_share_a_series_and_methods_are_named_after_their_type")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
        .run(|| {
            let guard = o11y::init().expect("init");
            let runtime = current_thread_runtime();
            assert_eq!(describe(5_u32), "5");
            assert_eq!(describe("five"), "\"five\"");
            assert_eq!(describe(vec![5]), "[5]");
            assert_eq!(first_word("hello world"), "hello");
            assert_eq!(first_word(&String::from("bye now")), "bye");

            let mut repo = OrderRepo::default();
            assert!(repo.get(0).is_err());
            assert_eq!(repo.get(4).unwrap(), 4);
            assert_eq!(runtime.block_on(repo.save()), 1);
            assert_eq!(repo.cache_key(4), "order:4");

            // Observed futures stay Send (never polled here: nothing recorded).
            assert_send(repo.save());
            assert_send(MemoryStore.load(1));
            assert_send(DiskStore.load(1));
            assert_eq!(runtime.block_on(MemoryStore.load(3)).unwrap(), 6);
            assert!(runtime.block_on(MemoryStore.load(0)).is_err());
            assert_eq!(runtime.block_on(DiskStore.load(3)).unwrap(), 4);
            assert_eq!(ItemRepo.find(1), Some(1));
            assert_eq!(runtime.block_on(UserRepo.find(1)), None);
            report_prometheus!("prometheus");
            drop(runtime);
            drop(guard);
        });
    let text = reported(&output, "prometheus");
    let all = samples(text.as_str().unwrap());

    // A generic function: one series whatever T is.
    let describe_series = series_of(&all, "function_calls_total", "describe");
    assert_eq!(
        describe_series.len(),
        2,
        "one series per result, not per type: {text}"
    );
    for series in &describe_series {
        assert_eq!(series.label("module"), MODULE);
    }
    assert_eq!(calls(&all, "describe", "ok"), 3.0);
    assert_eq!(calls(&all, "describe", "error"), 0.0);
    assert_eq!(
        series_of(&all, "function_calls_duration_seconds_count", "describe")
            .iter()
            .map(|s| s.value)
            .collect::<Vec<_>>(),
        [3.0]
    );
    assert_eq!(calls(&all, "first_word", "ok"), 2.0);

    // Methods of an observed impl: `Type::method`.
    assert_eq!(calls(&all, "OrderRepo::get", "ok"), 1.0);
    assert_eq!(calls(&all, "OrderRepo::get", "error"), 1.0);
    assert_eq!(calls(&all, "OrderRepo::save", "ok"), 1.0);
    for s in series_of(&all, "function_calls_total", "OrderRepo::get") {
        assert_eq!(s.label("module"), MODULE);
    }
    // #[observe(skip)]: no series at all.
    assert!(
        all.iter()
            .all(|s| !s.labels.iter().any(|(_, v)| v.contains("cache_key"))),
        "{}",
        text
    );
    // A trait impl with a native async fn.
    assert_eq!(calls(&all, "MemoryStore::load", "ok"), 1.0);
    assert_eq!(calls(&all, "MemoryStore::load", "error"), 1.0);
    // Methods observed one by one are named after their type too.
    assert_eq!(
        calls(&all, "DiskStore::load", "ok"),
        1.0,
        "#[observe] on the method itself: {text}"
    );
    assert_eq!(calls(&all, "ItemRepo::find", "ok"), 1.0, "{text}");
    assert_eq!(calls(&all, "UserRepo::find", "ok"), 1.0, "{text}");
    for s in series_of(&all, "function_calls_total", "UserRepo::find") {
        assert_eq!(s.label("module"), MODULE);
    }
    assert!(
        series_of(&all, "function_calls_total", "find").is_empty(),
        "{text}"
    );

    let spans = rotel.wait_for_spans(Duration::from_secs(15), |spans| spans.len() >= 13);
    assert_eq!(common::named(&spans, &fn_span("describe")).len(), 3);
    assert_eq!(common::named(&spans, &fn_span("first_word")).len(), 2);
    let gets = common::named(&spans, "OrderRepo::get");
    assert_eq!(gets.len(), 2, "{spans:#?}");
    assert_eq!(
        gets.iter().filter(|s| s["status_code"] == "error").count(),
        1
    );
    let failed_get = gets.iter().find(|s| s["status_code"] == "error").unwrap();
    assert_eq!(
        failed_get["attributes"]["error.type"],
        std::any::type_name::<NotFound>()
    );
    span_named(&spans, "OrderRepo::save");
    assert_eq!(common::named(&spans, "MemoryStore::load").len(), 2);
    span_named(&spans, "DiskStore::load");
    span_named(&spans, "ItemRepo::find");
    span_named(&spans, "UserRepo::find");
    assert!(
        spans
            .iter()
            .all(|s| !s["name"].as_str().unwrap().contains("cache_key")),
        "{spans:#?}"
    );
    assert_eq!(spans.len(), 13, "{spans:#?}");
    let lines = json_lines(&output);
    let key_line = log_line(&lines, "computing a cache key");
    assert!(
        key_line.get("span_id").is_none(),
        "a skipped method runs in no span of its own: {key_line}"
    );
}

// ---------------------------------------------------------------------------
// nesting through a user's #[tracing::instrument]

#[o11y::observe]
fn outer() -> u32 {
    middle(2) + 1
}

#[tracing::instrument]
fn middle(n: u32) -> u32 {
    inner(n) * 2
}

#[o11y::observe]
fn inner(n: u32) -> u32 {
    tracing::info!("deepest");
    n
}

#[o11y::observe]
async fn outer_async() -> u32 {
    tokio::task::yield_now().await;
    middle_async(2).await + 1
}

#[tracing::instrument]
async fn middle_async(n: u32) -> u32 {
    let handle = tokio::spawn(tracing::Instrument::in_current_span(inner_async(n)));
    handle.await.unwrap() * 2
}

#[o11y::observe]
async fn inner_async(n: u32) -> u32 {
    tokio::task::yield_now().await;
    tracing::info!("deepest async");
    n
}

fn assert_chain(spans: &[Value], outer: &str, middle: &str, inner: &str) -> [Value; 3] {
    let (outer, middle, inner) = (
        span_named(spans, outer),
        span_named(spans, middle),
        span_named(spans, inner),
    );
    assert_eq!(outer["parent_span_id"], "", "outer is a root: {outer}");
    assert_eq!(middle["parent_span_id"], outer["span_id"], "{middle}");
    assert_eq!(inner["parent_span_id"], middle["span_id"], "{inner}");
    assert_eq!(middle["trace_id"], outer["trace_id"], "one trace");
    assert_eq!(inner["trace_id"], outer["trace_id"], "one trace");
    [outer.clone(), middle.clone(), inner.clone()]
}

#[test]
fn observed_calls_nest_through_a_user_instrumented_function() {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    let output = o11y_child("observed_calls_nest_through_a_user_instrumented_function")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
        .run(|| {
            let guard = o11y::init().expect("init");
            assert_eq!(outer(), 5);
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            assert_eq!(runtime.block_on(outer_async()), 5);
            drop(runtime);
            drop(guard);
        });
    let spans = rotel.wait_for_spans(Duration::from_secs(15), |spans| spans.len() >= 6);
    assert_eq!(spans.len(), 6, "{spans:#?}");
    let [sync_outer, _, sync_inner] =
        assert_chain(&spans, &fn_span("outer"), "middle", &fn_span("inner"));
    let [async_outer, _, async_inner] = assert_chain(
        &spans,
        &fn_span("outer_async"),
        "middle_async",
        &fn_span("inner_async"),
    );
    assert_ne!(
        sync_outer["trace_id"], async_outer["trace_id"],
        "two traces"
    );

    let lines = json_lines(&output);
    let deepest = log_line(&lines, "deepest");
    assert_eq!(deepest["trace_id"], sync_inner["trace_id"]);
    assert_eq!(deepest["span_id"], sync_inner["span_id"]);
    assert_eq!(deepest["n"], 2, "the #[instrument] span's field: {deepest}");
    let deepest = log_line(&lines, "deepest async");
    assert_eq!(deepest["trace_id"], async_inner["trace_id"]);
    assert_eq!(deepest["span_id"], async_inner["span_id"]);
}

/// Logs when dropped: a local of an async body that never finishes.
struct LogsOnDrop;

impl Drop for LogsOnDrop {
    fn drop(&mut self) {
        tracing::info!("body dropped");
    }
}

#[o11y::observe(fields(job = id))]
async fn waits_forever(id: u64) {
    let _cleanup = LogsOnDrop;
    tracing::info!("waiting");
    std::future::pending::<()>().await;
}

#[test]
fn a_cancelled_async_call_drops_its_body_within_its_span() {
    let output = o11y_child("a_cancelled_async_call_drops_its_body_within_its_span").run(|| {
        use std::future::Future;
        use std::task::{Context, Waker};
        let guard = o11y::init().expect("init");
        let mut call = Box::pin(waits_forever(5));
        let mut context = Context::from_waker(Waker::noop());
        assert!(call.as_mut().poll(&mut context).is_pending());
        // Cancelled: its `LogsOnDrop` logs as the body is dropped.
        drop(call);
        drop(guard);
    });
    let lines = json_lines(&output);
    let waiting = log_line(&lines, "waiting");
    let dropped = log_line(&lines, "body dropped");
    assert_eq!(dropped["job"], 5, "the call's field: {dropped}");
    assert_eq!(dropped["span_id"], waiting["span_id"], "{dropped}");
    assert_eq!(dropped["trace_id"], waiting["trace_id"], "{dropped}");
}
