//! Background tasks through the public API: the envelope round-trips
//! through JSON with and without a current span (and parses as the previous
//! version wrote it); `#[task_traced]` continues the producer's trace
//! (spans as rotel received them: the consumer span repeats the producer's
//! messaging system and destination, and keeps its tracestate), writes its
//! lifecycle events as JSON log lines with the task's trace ids, and counts
//! every outcome (succeeded, failed, retried, panicked, cancelled), with a
//! worker that keeps running after a panicking task.
//!
//! One file past 500 lines, not several: each integration test file is a
//! test binary of its own, linked once per feature set of `scripts/test.sh`
//! (six), and the scenarios here share one app and its helpers.
// With the `off` feature, #[task_traced] returns the function untouched:
// what these tests check does not exist then; ui-tests/off covers that mode.
#![cfg(not(feature = "off"))]

use o11y_test_support as common;

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::pin;

use std::time::Duration;

use common::exposition::sample_value;
use common::noop_context;
use common::scenario::{
    current_thread_runtime, json_lines, o11y_child, report, report_prometheus, reported, span_named,
};
use o11y::task::{Envelope, TaskContext};
use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct OrderJob {
    order_id: u64,
}

#[derive(Debug)]
struct OutOfStock(u64);

impl std::fmt::Display for OutOfStock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "order {} is out of stock", self.0)
    }
}

/// The remote parent of the `fan_out` task: a producer of another process,
/// sampled and with the W3C Level 2 `random` flag.
const STATEFUL_PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03";
/// The same, unsampled (flags `02`) in a trace of its own.
const UNSAMPLED_STATEFUL_PARENT: &str = "00-5cf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-02";
/// The `tracestate` that producer sent: `vendor` twice, and keys the
/// opentelemetry crate's `TraceState` refuses although W3C Trace Context
/// Level 2 allows them (20 characters after an `@`, two `@`).
const SENT_STATE: &str = "vendor=abc, t@vvvvvvvvvvvvvvvvvvvv=1,vendor=x,foo@@bar=2";
/// What the task keeps and hands on: every member, `vendor` once.
const KEPT_STATE: &str = "vendor=abc,t@vvvvvvvvvvvvvvvvvvvv=1,foo@@bar=2";

// ---------------------------------------------------------------------------
// Task functions.

#[o11y::task_traced(fields(order_id = job.payload.order_id))]
fn process_order(job: Envelope<OrderJob>) -> Result<u64, OutOfStock> {
    tracing::info!("charging");
    match job.payload.order_id {
        0 => Err(OutOfStock(0)),
        13 => panic!("order 13 is cursed"),
        id => Ok(id * 10),
    }
}

#[o11y::task_traced(name = "process_order_async")]
async fn process_order_async(job: &Envelope<OrderJob>) -> Result<u64, OutOfStock> {
    tokio::task::yield_now().await;
    if job.payload.order_id == 99 {
        o11y::task::retry("warehouse busy");
        return Err(OutOfStock(99));
    }
    Ok(job.payload.order_id)
}

/// Pending once, then done: dropped after its first poll, it is cancelled.
#[o11y::task_traced]
async fn slow_task(job: Envelope<()>) -> usize {
    let mut polled = false;
    std::future::poll_fn(|cx| {
        if polled {
            return std::task::Poll::Ready(());
        }
        polled = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    })
    .await;
    job.task_id.len()
}

/// Publishes a follow-up task from inside a task: what it hands on.
#[o11y::task_traced]
fn fan_out(job: Envelope<()>) -> Envelope<()> {
    let _ = job;
    Envelope::new("follow_up", ())
}

/// A span below the default `info` level: it cannot carry the trace on.
#[o11y::task_traced(level = "debug")]
fn quiet(job: Envelope<()>) -> usize {
    job.task_id.len()
}

/// A message type of its own, with headers: link mode.
#[o11y::task_traced(name = "resize", link)]
fn resize(#[carrier] headers: &HashMap<String, String>, body: &[u8]) -> usize {
    let _ = headers;
    body.len()
}

/// Reports a retry, then runs an item inline: the retry is the batch's.
#[o11y::task_traced]
fn batch(job: Envelope<u64>) -> u64 {
    o11y::task::retry("gateway busy");
    item(Envelope::new("item", job.payload))
}

#[o11y::task_traced]
fn item(job: Envelope<u64>) -> u64 {
    job.payload
}

/// A handler behind `#[async_trait]`: the task gets the boxed future as its
/// body, and must run it, not only create it.
#[async_trait::async_trait]
trait Handler {
    async fn handle(&self, job: Envelope<OrderJob>) -> Result<u64, OutOfStock>;
}

struct Warehouse;

#[async_trait::async_trait]
impl Handler for Warehouse {
    #[o11y::task_traced(name = "handle_order")]
    async fn handle(&self, job: Envelope<OrderJob>) -> Result<u64, OutOfStock> {
        tracing::info!("checking stock");
        tokio::time::sleep(Duration::from_millis(SLOW_HANDLER_MS)).await;
        Err(OutOfStock(job.payload.order_id))
    }
}

const SLOW_HANDLER_MS: u64 = 50;

/// Not `async`, but the future it returns is the task: its context is read
/// at the call, before the statements that build the future take the envelope.
#[o11y::task_traced]
fn settle_order(job: Envelope<OrderJob>) -> impl Future<Output = Result<u64, OutOfStock>> {
    let payload = job.payload;
    async move {
        tracing::info!("settling");
        tokio::time::sleep(Duration::from_millis(SLOW_HANDLER_MS)).await;
        Err(OutOfStock(payload.order_id))
    }
}

/// Work an `async fn` does, which the two handlers below return.
async fn settle_later(order_id: u64, event: &'static str) -> Result<u64, OutOfStock> {
    tracing::info!("{event}");
    tokio::time::sleep(Duration::from_millis(SLOW_HANDLER_MS)).await;
    Err(OutOfStock(order_id))
}

/// Returns the future of another function: that future is the task.
#[o11y::task_traced]
fn delegate_order(job: Envelope<OrderJob>) -> impl Future<Output = Result<u64, OutOfStock>> {
    settle_later(job.payload.order_id, "delegated")
}

/// The same, boxed by hand (not `#[async_trait]`'s `Box::pin(async move ..)`).
#[o11y::task_traced]
fn box_order(
    job: Envelope<OrderJob>,
) -> std::pin::Pin<Box<dyn Future<Output = Result<u64, OutOfStock>> + Send>> {
    if job.payload.order_id == 0 {
        return Box::pin(std::future::ready(Ok(0)));
    }
    Box::pin(settle_later(job.payload.order_id, "boxed"))
}

fn runs(text: &str, task: &str, outcome: &str) -> f64 {
    sample_value(
        text,
        "task_runs_total",
        &[("task", task), ("outcome", outcome)],
    )
    .unwrap_or(0.0)
}

fn lines_for<'a>(lines: &'a [Value], event: &str, task_id: &str) -> Vec<&'a Value> {
    lines
        .iter()
        .filter(|line| line["event"] == event && line["task_id"] == task_id)
        .collect()
}

// ---------------------------------------------------------------------------
// Tests.

#[test]
fn envelope_round_trips_through_json_and_headers_outside_any_span() {
    let envelope = Envelope::builder("process_order", OrderJob { order_id: 7 })
        .id("order-7")
        .baggage("tenant=acme")
        .build();
    assert_eq!(
        envelope.trace.traceparent, None,
        "no current span, no context"
    );
    assert_eq!(
        (envelope.system.as_deref(), envelope.destination.as_deref()),
        (Some("o11y"), Some("process_order")),
        "the producer span's defaults"
    );
    let json = serde_json::to_value(&envelope).unwrap();
    assert_eq!(json["task_id"], "order-7");
    assert_eq!(json["task_name"], "process_order");
    assert_eq!(json["payload"], json!({"order_id": 7}));
    assert_eq!(json["trace"], json!({"baggage": "tenant=acme"}));
    assert_eq!(json["system"], "o11y");
    assert_eq!(json["destination"], "process_order");
    assert!(json["enqueued_at_ms"].as_u64().unwrap() > 1_700_000_000_000);
    let back: Envelope<OrderJob> = serde_json::from_value(json).unwrap();
    assert_eq!(back, envelope);

    // The same context through a headers map, either kind.
    let mut hash: HashMap<String, String> = HashMap::new();
    envelope.inject(&mut hash);
    let mut tree: BTreeMap<String, String> = BTreeMap::new();
    envelope.inject(&mut tree);
    assert_eq!(o11y::task::extract(&hash), envelope.context());
    assert_eq!(o11y::task::extract(&tree), envelope.context());
    assert_eq!(hash["o11y-messaging-system"], "o11y");
    assert_eq!(hash["o11y-messaging-destination"], "process_order");
    assert_eq!(
        envelope.context(),
        TaskContext {
            trace: envelope.trace.clone(),
            task_id: Some("order-7".into()),
            enqueued_at_ms: Some(envelope.enqueued_at_ms),
            system: Some("o11y".into()),
            destination: Some("process_order".into()),
        }
    );
    // A message injected without an envelope was not published: no system
    // nor destination to carry.
    let mut plain: HashMap<String, String> = HashMap::new();
    o11y::task::inject(&mut plain);
    let context = o11y::task::extract(&plain);
    assert_eq!((context.system, context.destination), (None, None));
    assert!(context.enqueued_at_ms.is_some());

    // o11y not initialised: the task runs as written, nothing else happens.
    assert_eq!(process_order(back).unwrap(), 70);
    assert!(!o11y::task::retry("outside a task"));
}

#[test]
fn system_and_destination_round_trip_and_old_envelopes_still_parse() {
    let envelope = Envelope::builder("process_order", OrderJob { order_id: 8 })
        .system("kafka")
        .destination("orders.v2")
        .build();
    let json = serde_json::to_string(&envelope).unwrap();
    let back: Envelope<OrderJob> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, envelope);
    assert_eq!(back.system.as_deref(), Some("kafka"));
    assert_eq!(back.destination.as_deref(), Some("orders.v2"));
    let context = back.context();
    assert_eq!(context.system.as_deref(), Some("kafka"));
    assert_eq!(context.destination.as_deref(), Some("orders.v2"));
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    back.inject(&mut headers);
    assert_eq!(headers["o11y-messaging-system"], "kafka");
    assert_eq!(headers["o11y-messaging-destination"], "orders.v2");
    assert_eq!(o11y::task::extract(&headers), context);

    // What the previous version wrote: no system, no destination.
    let old = r#"{
        "task_id": "order-9",
        "task_name": "process_order",
        "enqueued_at_ms": 1700000000000,
        "trace": {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
        "payload": {"order_id": 9}
    }"#;
    let old: Envelope<OrderJob> = serde_json::from_str(old).expect("an old envelope parses");
    assert_eq!(old.task_id, "order-9");
    assert_eq!(old.payload, OrderJob { order_id: 9 });
    assert_eq!((old.system, old.destination), (None, None));
    // Written back, it stays in the old shape: nothing invented.
    let rewritten = serde_json::to_value(Envelope {
        system: None,
        destination: None,
        ..envelope
    })
    .unwrap();
    assert!(rewritten.get("system").is_none() && rewritten.get("destination").is_none());
}

#[test]
fn one_trace_from_the_producer_span_to_the_task_with_lifecycle_log_lines() {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    let test = "one_trace_from_the_producer_span_to_the_task_with_lifecycle_log_lines";
    let output = o11y_child(test)
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
        .run(|| {
            let guard = o11y::init().expect("init");
            // Producer: inside the request's span.
            let request = tracing::info_span!("POST /orders", otel.kind = "server");
            let mut headers = HashMap::new();
            let (json, request_ids) = request.in_scope(|| {
                o11y::task::inject(&mut headers);
                let envelope = Envelope::builder("process_order", OrderJob { order_id: 4 })
                    .system("redis")
                    .destination("orders")
                    .build();
                let ids = o11y::trace::current_span_ids().expect("inside a span");
                (serde_json::to_string(&envelope).unwrap(), ids)
            });
            drop(request);
            // Worker: outside any span, from the JSON alone.
            let received: Envelope<OrderJob> = serde_json::from_str(&json).unwrap();
            let task_id = received.task_id.clone();
            let traceparent = received.trace.traceparent.clone().expect("captured");
            assert_eq!(process_order(received).unwrap(), 40);

            // Created outside any span: the task is a new trace.
            let orphan = Envelope::new("process_order_async", OrderJob { order_id: 5 });
            let runtime = current_thread_runtime();
            assert_eq!(runtime.block_on(process_order_async(&orphan)).unwrap(), 5);
            // `link` mode: the request's span is a link of the task's span.
            assert_eq!(resize(&headers, b"png"), 3);
            // A task whose trace arrived with a `tracestate` keeps it on its
            // span, and hands it on with what it publishes, with the
            // trace's flags; sampled or not.
            for (parent, key) in [
                (STATEFUL_PARENT, "follow_up"),
                (UNSAMPLED_STATEFUL_PARENT, "unsampled_follow_up"),
            ] {
                let mut stateful = Envelope::new("fan_out", ());
                stateful.trace = o11y::task::TraceContext {
                    traceparent: Some(parent.into()),
                    tracestate: Some(SENT_STATE.into()),
                    baggage: None,
                };
                let follow_up = fan_out(stateful);
                report(key, json!(follow_up.trace));
            }

            report(
                "ids",
                json!({
                    "task_id": task_id,
                    "traceparent": traceparent,
                    "request_trace_id": request_ids.trace_id,
                    "request_span_id": request_ids.span_id,
                    "orphan_task_id": orphan.task_id,
                }),
            );
            assert!(o11y::task::shutdown(), "everything exported in time");
            drop(guard);
        });
    let ids = reported(&output, "ids");
    let text = |key: &str| ids[key].as_str().unwrap().to_owned();
    let (task_id, request_trace_id) = (text("task_id"), text("request_trace_id"));
    let traceparent = text("traceparent");
    assert!(
        traceparent.starts_with(&format!("00-{request_trace_id}-")),
        "{traceparent}: the request's trace"
    );
    let producer_span_id = &traceparent[36..52];
    assert_ne!(
        producer_span_id,
        text("request_span_id"),
        "a span of its own"
    );

    // Lifecycle log lines: JSON, inside the task's span, in the request's trace.
    let lines = json_lines(&output);
    let started = lines_for(&lines, "task_started", &task_id);
    let succeeded = lines_for(&lines, "task_succeeded", &task_id);
    assert_eq!((started.len(), succeeded.len()), (1, 1), "{lines:#?}");
    let (started, succeeded) = (started[0], succeeded[0]);
    for line in [started, succeeded] {
        assert_eq!(line["trace_id"], request_trace_id.as_str());
        assert_eq!(line["task_name"], "process_order");
        assert_eq!(line["logger"], "o11y::task");
        assert_eq!(line["order_id"], 4, "the task's fields are on its lines");
    }
    assert_eq!(started["span_id"], succeeded["span_id"]);
    assert!(started.get("duration_ms").is_none());
    assert!(succeeded["duration_ms"].as_f64().unwrap() >= 0.0);
    let consumer_span_id = started["span_id"].as_str().unwrap().to_owned();
    let charging = lines.iter().find(|l| l["event"] == "charging").unwrap();
    assert_eq!(charging["span_id"], consumer_span_id.as_str());

    // The orphan: a new trace, no error.
    let orphan_id = text("orphan_task_id");
    let orphan = lines_for(&lines, "task_succeeded", &orphan_id);
    assert_eq!(orphan.len(), 1);
    let orphan_trace = orphan[0]["trace_id"]
        .as_str()
        .expect("in a span of its own");
    assert_ne!(orphan_trace, request_trace_id);

    // What the collector received: request → publish (PRODUCER) → process (CONSUMER).
    let spans = rotel.wait_for_spans(Duration::from_secs(10), |spans| {
        spans
            .iter()
            .filter(|s| {
                s["name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("process "))
            })
            .count()
            >= 4
    });
    let request = span_named(&spans, "POST /orders");
    let publish = span_named(&spans, "publish process_order");
    let process = span_named(&spans, "process process_order");
    assert_eq!(publish["kind"], "producer", "{publish:#}");
    assert_eq!(publish["parent_span_id"], request["span_id"]);
    assert_eq!(publish["span_id"], producer_span_id);
    assert_eq!(publish["attributes"]["messaging.system"], "redis");
    assert_eq!(
        publish["attributes"]["messaging.destination.name"],
        "orders"
    );
    assert_eq!(publish["attributes"]["messaging.operation.type"], "send");
    assert_eq!(publish["attributes"]["messaging.operation.name"], "publish");
    assert_eq!(
        publish["attributes"]["messaging.message.id"],
        task_id.as_str()
    );
    assert_eq!(process["kind"], "consumer", "{process:#}");
    assert_eq!(process["trace_id"], request_trace_id.as_str());
    assert_eq!(process["parent_span_id"], producer_span_id);
    assert_eq!(process["span_id"], consumer_span_id.as_str());
    assert_eq!(process["attributes"]["messaging.operation.type"], "process");
    assert_eq!(process["attributes"]["messaging.operation.name"], "process");
    assert_eq!(
        process["attributes"]["messaging.message.id"],
        task_id.as_str()
    );
    // The consumer names the system and queue the producer published to.
    assert_eq!(process["attributes"]["messaging.system"], "redis");
    assert_eq!(
        process["attributes"]["messaging.destination.name"],
        "orders"
    );
    let orphan_span = span_named(&spans, "process process_order_async");
    assert_eq!(orphan_span["trace_id"], orphan_trace);
    assert_eq!(orphan_span["parent_span_id"], "", "a root");
    // `Envelope::new`: the producer's defaults.
    assert_eq!(orphan_span["attributes"]["messaging.system"], "o11y");
    assert_eq!(
        orphan_span["attributes"]["messaging.destination.name"],
        "process_order_async"
    );
    let linked = span_named(&spans, "process resize");
    assert_ne!(linked["trace_id"], request_trace_id.as_str(), "{linked:#}");
    // Headers from `inject` name no system (none is invented), no queue
    // (the task's name stands for it) and no message id (a made-up one
    // would change at every redelivery).
    assert!(
        linked["attributes"].get("messaging.system").is_none(),
        "{linked:#}"
    );
    assert!(
        linked["attributes"].get("messaging.message.id").is_none(),
        "{linked:#}"
    );
    assert_eq!(linked["attributes"]["messaging.destination.name"], "resize");

    // The producer's tracestate (each key once) and flags: on the consumer
    // span, then on to the next task.
    let fan_out = span_named(&spans, "process fan_out");
    assert_eq!(fan_out["trace_id"], &STATEFUL_PARENT[3..35], "{fan_out:#}");
    assert_eq!(fan_out["parent_span_id"], &STATEFUL_PARENT[36..52]);
    assert_eq!(fan_out["trace_state"], KEPT_STATE, "{fan_out:#}");
    assert_eq!(
        fan_out["flags"].as_u64().unwrap() & 0xff,
        0x03,
        "{fan_out:#}"
    );
    let publish_next = span_named(&spans, "publish follow_up");
    assert_eq!(publish_next["parent_span_id"], fan_out["span_id"]);
    assert_eq!(publish_next["trace_state"], KEPT_STATE, "{publish_next:#}");
    assert_eq!(
        publish_next["flags"].as_u64().unwrap() & 0xff,
        0x03,
        "{publish_next:#}"
    );
    let follow_up = reported(&output, "follow_up");
    assert_eq!(follow_up["tracestate"], KEPT_STATE);
    assert_eq!(
        follow_up["traceparent"],
        format!(
            "00-{}-{}-03",
            &STATEFUL_PARENT[3..35],
            publish_next["span_id"].as_str().unwrap()
        )
    );
    // Unsampled: nothing exported, the state and the flags still go on.
    let unsampled_trace = &UNSAMPLED_STATEFUL_PARENT[3..35];
    assert!(
        spans.iter().all(|s| s["trace_id"] != unsampled_trace),
        "an unsampled trace was exported"
    );
    let follow_up = reported(&output, "unsampled_follow_up");
    assert_eq!(follow_up["tracestate"], KEPT_STATE);
    let traceparent = follow_up["traceparent"].as_str().unwrap();
    assert!(
        traceparent.starts_with(&format!("00-{unsampled_trace}-")) && traceparent.ends_with("-02"),
        "{traceparent}"
    );
    assert_eq!(linked["links"][0]["trace_id"], request_trace_id.as_str());
    assert_eq!(
        linked["links"][0]["span_id"],
        text("request_span_id").as_str()
    );
}

#[test]
fn failures_panics_retries_and_cancellations_are_outcomes_and_the_worker_keeps_running() {
    let test =
        "failures_panics_retries_and_cancellations_are_outcomes_and_the_worker_keeps_running";
    let output = o11y_child(test).run(|| {
        let guard = o11y::init().expect("init");
        let runtime = current_thread_runtime();
        let job = |order_id| Envelope::new("process_order", OrderJob { order_id });

        // A worker loop: every task runs whatever the previous one did.
        let mut results = Vec::new();
        for order_id in [0, 13, 2] {
            let envelope = job(order_id);
            let id = envelope.task_id.clone();
            let outcome = match catch_unwind(AssertUnwindSafe(|| process_order(envelope))) {
                Ok(Ok(value)) => format!("ok {value}"),
                Ok(Err(error)) => format!("err {error}"),
                Err(_) => "panicked".to_owned(),
            };
            results.push(json!([id, outcome]));
        }

        // Retry reported by the function; then a success of the same task.
        let retried = Envelope::new("process_order_async", OrderJob { order_id: 99 });
        assert!(runtime.block_on(process_order_async(&retried)).is_err());
        assert!(runtime.block_on(process_order_async(&job(1))).is_ok());
        // A task future is `Send`: it can be spawned on a multi-threaded runtime.
        let multi = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let spawned = job(3);
        let handle = multi.spawn(async move { process_order_async(&spawned).await });
        assert_eq!(multi.block_on(handle).unwrap().unwrap(), 3);
        drop(multi);

        // Dropped after its first poll: cancelled.
        {
            let mut future = pin!(slow_task(Envelope::new("slow_task", ())));
            assert!(future.as_mut().poll(&mut noop_context()).is_pending());
        }
        assert_eq!(
            runtime.block_on(slow_task(Envelope::new("slow_task", ()))),
            32
        );

        // Headers instead of an envelope, with a producer context from
        // another trace: linked, not parented.
        let mut headers = HashMap::new();
        tracing::info_span!("batch").in_scope(|| o11y::task::inject(&mut headers));
        assert_eq!(resize(&headers, b"abc"), 3);

        report("results", Value::from(results));
        report("batch_traceparent", json!(headers["traceparent"]));
        report(
            "prometheus",
            Value::from(o11y::metrics::render(o11y::metrics::Format::Prometheus)),
        );
        drop(runtime);
        drop(guard);
    });
    let results = reported(&output, "results");
    let results = results.as_array().unwrap();
    assert_eq!(results[0][1], "err order 0 is out of stock");
    assert_eq!(results[1][1], "panicked");
    assert_eq!(
        results[2][1], "ok 20",
        "the worker kept running after the panic"
    );

    let lines = json_lines(&output);
    let failed = lines_for(&lines, "task_failed", results[0][0].as_str().unwrap());
    assert_eq!(failed.len(), 1, "{lines:#?}");
    assert_eq!(failed[0]["level"], "error");
    assert_eq!(failed[0]["outcome"], "failed");
    assert_eq!(failed[0]["error"], "order 0 is out of stock");
    assert!(
        failed[0]["error.type"]
            .as_str()
            .unwrap()
            .ends_with("OutOfStock")
    );
    assert!(failed[0]["trace_id"].is_string() && failed[0]["span_id"].is_string());
    let panicked = lines_for(&lines, "task_failed", results[1][0].as_str().unwrap());
    assert_eq!(panicked.len(), 1);
    assert_eq!(panicked[0]["outcome"], "panicked");
    assert_eq!(panicked[0]["error.type"], "panic");
    let retried: Vec<&Value> = lines
        .iter()
        .filter(|l| l["event"] == "task_retried")
        .collect();
    assert_eq!(retried.len(), 1);
    assert_eq!(retried[0]["reason"], "warehouse busy");
    assert_eq!(retried[0]["level"], "warn");
    let cancelled: Vec<&Value> = lines
        .iter()
        .filter(|l| l["event"] == "task_failed" && l["outcome"] == "cancelled")
        .collect();
    assert_eq!(cancelled.len(), 1);
    assert_eq!(cancelled[0]["task_name"], "slow_task");
    let resize_started = lines
        .iter()
        .find(|l| l["event"] == "task_started" && l["task_name"] == "resize")
        .unwrap();
    let batch = reported(&output, "batch_traceparent");
    let batch_trace_id = &batch.as_str().unwrap()[3..35];
    let resize_trace_id = resize_started["trace_id"].as_str().expect("in its span");
    assert_ne!(
        resize_trace_id, batch_trace_id,
        "`link`: a trace of its own, the producer's span is a link"
    );

    let text = reported(&output, "prometheus");
    let text = text.as_str().unwrap();
    assert_eq!(runs(text, "process_order", "failed"), 1.0);
    assert_eq!(runs(text, "process_order", "panicked"), 1.0);
    assert_eq!(runs(text, "process_order", "succeeded"), 1.0);
    assert_eq!(runs(text, "process_order_async", "retried"), 1.0);
    assert_eq!(runs(text, "process_order_async", "succeeded"), 2.0);
    assert_eq!(runs(text, "slow_task", "cancelled"), 1.0);
    assert_eq!(runs(text, "slow_task", "succeeded"), 1.0);
    assert_eq!(runs(text, "resize", "succeeded"), 1.0);
    for task in [
        "process_order",
        "process_order_async",
        "slow_task",
        "resize",
    ] {
        let count = |name| sample_value(text, name, &[("task", task)]).unwrap();
        assert_eq!(
            count("task_in_progress"),
            0.0,
            "{task}: every run ended, whatever its outcome"
        );
        let total: f64 = ["succeeded", "failed", "retried", "panicked", "cancelled"]
            .iter()
            .map(|outcome| runs(text, task, outcome))
            .sum();
        assert_eq!(count("task_duration_seconds_count"), total, "{task}");
        assert_eq!(count("task_queue_wait_seconds_count"), total, "{task}");
    }
    assert_eq!(
        sample_value(text, "task_published_total", &[("task", "process_order")]),
        Some(5.0)
    );
}

#[test]
fn with_metrics_off_tasks_are_traced_and_logged_but_not_counted() {
    let output = o11y_child("with_metrics_off_tasks_are_traced_and_logged_but_not_counted")
        .env("O11Y_METRICS_ENABLED", "false")
        .run(|| {
            let guard = o11y::init().expect("init");
            let job = Envelope::new("process_order", OrderJob { order_id: 4 });
            assert_eq!(process_order(job).ok(), Some(40));
            report_prometheus!("metrics");
            drop(guard);
        });
    let lines = json_lines(&output);
    assert!(
        lines.iter().any(|line| line["event"] == "task_succeeded"),
        "{lines:#?}"
    );
    let metrics = reported(&output, "metrics");
    let metrics = metrics.as_str().unwrap();
    for family in [
        "task_published_total{",
        "task_runs_total{",
        "task_queue_wait_seconds_count{",
        "task_duration_seconds_count{",
        "task_in_progress{",
    ] {
        assert!(!metrics.contains(family), "{family} in {metrics}");
    }
}

#[test]
fn a_retry_reported_before_an_inline_task_stays_with_its_own_run() {
    let output =
        o11y_child("a_retry_reported_before_an_inline_task_stays_with_its_own_run").run(|| {
            let guard = o11y::init().expect("init");
            assert_eq!(batch(Envelope::new("batch", 3)), 3);
            report_prometheus!("metrics");
            drop(guard);
        });
    let metrics = reported(&output, "metrics");
    let metrics = metrics.as_str().unwrap();
    assert_eq!(runs(metrics, "batch", "retried"), 1.0, "{metrics}");
    assert_eq!(runs(metrics, "batch", "succeeded"), 0.0, "{metrics}");
    assert_eq!(runs(metrics, "item", "succeeded"), 1.0, "{metrics}");
}

#[test]
fn handlers_returning_their_future_are_measured_and_traced_around_it() {
    let output = o11y_child("handlers_returning_their_future_are_measured_and_traced_around_it")
        .run(|| {
            let guard = o11y::init().expect("init");
            let runtime = current_thread_runtime();
            let envelope = Envelope::new("handle_order", OrderJob { order_id: 6 });
            report("task_id", json!(envelope.task_id));
            let result = runtime.block_on(Warehouse.handle(envelope));
            assert!(matches!(result, Err(OutOfStock(6))));
            let envelope = Envelope::new("settle_order", OrderJob { order_id: 7 });
            report("settle_task_id", json!(envelope.task_id));
            let result = runtime.block_on(settle_order(envelope));
            assert!(matches!(result, Err(OutOfStock(7))));
            let envelope = Envelope::new("delegate_order", OrderJob { order_id: 8 });
            report("delegate_task_id", json!(envelope.task_id));
            let result = runtime.block_on(delegate_order(envelope));
            assert!(matches!(result, Err(OutOfStock(8))));
            let envelope = Envelope::new("box_order", OrderJob { order_id: 9 });
            report("box_task_id", json!(envelope.task_id));
            let result = runtime.block_on(box_order(envelope));
            assert!(matches!(result, Err(OutOfStock(9))));
            report_prometheus!("metrics");
            drop(runtime);
            drop(guard);
        });
    let metrics = reported(&output, "metrics");
    let metrics = metrics.as_str().unwrap();
    let lines = json_lines(&output);
    for (task, id_key, event, order_id) in [
        ("handle_order", "task_id", "checking stock", 6),
        ("settle_order", "settle_task_id", "settling", 7),
        ("delegate_order", "delegate_task_id", "delegated", 8),
        ("box_order", "box_task_id", "boxed", 9),
    ] {
        assert_eq!(runs(metrics, task, "failed"), 1.0, "{metrics}");
        assert_eq!(runs(metrics, task, "succeeded"), 0.0, "{metrics}");
        let duration =
            sample_value(metrics, "task_duration_seconds_sum", &[("task", task)]).unwrap();
        assert!(
            duration >= SLOW_HANDLER_MS as f64 / 1000.0,
            "{task}: the run lasts the sleep: {duration}s"
        );

        // The handler's own event is in the CONSUMER span, between its
        // lifecycle lines.
        let task_id = reported(&output, id_key);
        let task_id = task_id.as_str().unwrap();
        let started = lines_for(&lines, "task_started", task_id);
        let failed = lines_for(&lines, "task_failed", task_id);
        assert_eq!((started.len(), failed.len()), (1, 1), "{lines:#?}");
        assert_eq!(
            failed[0]["error"],
            format!("order {order_id} is out of stock")
        );
        let consumer_span_id = started[0]["span_id"].as_str().expect("in the task's span");
        assert_eq!(failed[0]["span_id"], consumer_span_id);
        let own = lines
            .iter()
            .find(|line| line["event"] == event)
            .unwrap_or_else(|| panic!("{lines:#?}"));
        assert_eq!(own["span_id"], consumer_span_id, "{own}");
    }
}

#[test]
fn a_task_span_below_the_level_is_said_once() {
    let output = o11y_child("a_task_span_below_the_level_is_said_once").run(|| {
        let guard = o11y::init().expect("init");
        let request = tracing::info_span!("POST /orders");
        let envelopes: Vec<Envelope<()>> =
            request.in_scope(|| (0..3).map(|_| Envelope::new("quiet", ())).collect());
        for envelope in envelopes {
            assert_eq!(quiet(envelope), 32);
        }
        // Without a trace to carry on, there is nothing to say.
        quiet(Envelope::new("quiet", ()));
        drop(guard);
    });
    let lines = json_lines(&output);
    let told: Vec<&Value> = lines
        .iter()
        .filter(|l| {
            l["event"]
                .as_str()
                .is_some_and(|e| e.contains("below logging.level"))
        })
        .collect();
    assert_eq!(told.len(), 1, "{lines:#?}");
    assert_eq!(told[0]["level"], "warn");
    assert_eq!(told[0]["task"], "quiet");
    let event = told[0]["event"].as_str().unwrap();
    assert!(event.contains("task_envelope"), "names the target: {event}");
    // The runs themselves still count.
    assert_eq!(
        lines
            .iter()
            .filter(|l| l["event"] == "task_succeeded")
            .count(),
        4,
        "{lines:#?}"
    );
}
