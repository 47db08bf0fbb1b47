//! Tasks across two real processes through a real Redis: a producer
//! process enqueues envelopes (`LPUSH`) inside a SERVER span; a worker
//! process (this test binary re-run as `worker_process`) `BRPOP`s them and
//! runs a `#[task_traced]` function. rotel receives one trace in which the
//! worker's CONSUMER span is a child of the producer's PRODUCER span, itself
//! a child of the request's SERVER span, and names the same
//! `messaging.system` and `messaging.destination.name`; the queue wait is
//! measured; a
//! failing task gives `task_failed` and `outcome="failed"`, a panicking one
//! `panicked`, and the worker keeps running. The worker's metrics are
//! scraped from `o11y::metrics::serve`, as a worker without an HTTP server
//! exposes them.
#![cfg(not(feature = "off"))]

use o11y_test_support as common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::Command;
use std::time::Duration;

use common::exposition::sample_value;
use common::scenario::{json_lines, o11y_child, report, reported};
use common::{ChildOutput, Redis, Rotel};
use o11y::task::Envelope;
use serde_json::{Value, json};

/// Tells the re-run test binary which Redis to pop from (not an `O11Y_*`
/// name: o11y's config rejects unknown ones).
const WORKER_REDIS_PORT: &str = "TASK_REDIS_WORKER_PORT";
const QUEUE: &str = "orders";

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct OrderJob {
    order_id: u64,
}

#[o11y::task_traced]
fn process_order(job: Envelope<OrderJob>) -> Result<u64, String> {
    match job.payload.order_id {
        0 => Err("card declined".to_owned()),
        13 => panic!("order 13 is cursed"),
        id => Ok(id),
    }
}

/// `BRPOP queue 10` on a new connection: the popped value, `None` on timeout.
fn brpop(port: u16, queue: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to redis");
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let command = format!(
        "*3\r\n$5\r\nBRPOP\r\n${}\r\n{queue}\r\n$2\r\n10\r\n",
        queue.len()
    );
    stream.write_all(command.as_bytes()).unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    if line.starts_with("*-1") {
        return None;
    }
    assert!(line.starts_with("*2"), "BRPOP reply: {line:?}");
    let mut bulk = || {
        let mut header = String::new();
        reader.read_line(&mut header).unwrap();
        let len: usize = header.trim().trim_start_matches('$').parse().unwrap();
        let mut value = vec![0; len + 2];
        reader.read_exact(&mut value).unwrap();
        value.truncate(len);
        String::from_utf8(value).unwrap()
    };
    assert_eq!(bulk(), queue);
    Some(bulk())
}

/// The worker process of the test below, which runs it with
/// `TASK_REDIS_WORKER_PORT` set; ignored in a normal run.
#[test]
#[ignore = "the worker process of producer_and_worker_share_one_trace_through_redis, started by it"]
fn worker_process() {
    let port: u16 = std::env::var(WORKER_REDIS_PORT)
        .expect("started by producer_and_worker_share_one_trace_through_redis")
        .parse()
        .unwrap();
    let guard = o11y::init().expect("init");
    // No HTTP server in a worker: its metrics get a listener of their own.
    let metrics = o11y::metrics::serve("127.0.0.1:0").expect("serve metrics");
    let mut outcomes = Vec::new();
    for _ in 0..3 {
        let json = brpop(port, QUEUE).expect("a task within 10 s");
        let envelope: Envelope<OrderJob> = serde_json::from_str(&json).unwrap();
        // The worker loop survives a panicking task.
        outcomes.push(
            match catch_unwind(AssertUnwindSafe(|| process_order(envelope))) {
                Ok(Ok(id)) => format!("ok {id}"),
                Ok(Err(error)) => format!("err {error}"),
                Err(_) => "panicked".to_owned(),
            },
        );
    }
    report("outcomes", json!(outcomes));
    let scrape = common::http::get(&format!("http://{}/metrics", metrics.local_addr()))
        .expect("scrape the worker");
    report("prometheus", Value::from(scrape.text()));
    drop(metrics);
    assert!(o11y::task::shutdown(), "the worker's telemetry is exported");
    drop(guard);
}

#[test]
fn producer_and_worker_share_one_trace_through_redis() {
    let Some(rotel) = Rotel::start() else {
        return;
    };
    let Some(redis) = Redis::start() else {
        return;
    };
    let test = "producer_and_worker_share_one_trace_through_redis";
    // The producer process: three orders enqueued while handling one request.
    let producer = o11y_child(test)
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
        .env("OTEL_SERVICE_NAME", "shop")
        .run(|| {
            let guard = o11y::init().expect("init");
            let request = tracing::info_span!("POST /orders", otel.kind = "server");
            let ids = request.in_scope(|| {
                for order_id in [4, 0, 13] {
                    let envelope = Envelope::builder("process_order", OrderJob { order_id })
                        .system("redis")
                        .destination(QUEUE)
                        .build();
                    let json = serde_json::to_string(&envelope).unwrap();
                    redis.cmd(&["LPUSH", QUEUE, &json]);
                }
                o11y::trace::current_span_ids().unwrap()
            });
            report("request", json!([ids.trace_id, ids.span_id]));
            drop(request);
            assert!(o11y::task::shutdown());
            drop(guard);
        });
    let request = reported(&producer, "request");
    let (trace_id, request_span_id) = (request[0].as_str().unwrap(), request[1].as_str().unwrap());
    // The tasks wait in the queue at least this long.
    std::thread::sleep(Duration::from_millis(300));

    // The worker process.
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "worker_process",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env_clear()
        .env(WORKER_REDIS_PORT, redis.port().to_string())
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
        .env("OTEL_SERVICE_NAME", "worker")
        .env("O11Y_PROFILE", "dev")
        .env("O11Y_LOGGING_FORMAT", "json")
        .env("O11Y_LOGGING_LEVEL", "info")
        .env("O11Y_LOGGING_FILE_ENABLED", "false")
        .output()
        .expect("run the worker");
    let worker = ChildOutput {
        status: output.status,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        raw_stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        completed: true,
    };
    assert!(
        worker.status.success(),
        "worker failed:\n{}",
        worker.combined()
    );
    assert_eq!(
        reported(&worker, "outcomes"),
        json!(["ok 4", "err card declined", "panicked"]),
        "FIFO, and the worker kept running after the panic"
    );

    // Lifecycle lines in the producer's trace.
    let lines = json_lines(&worker);
    let task_lines: Vec<&Value> = lines
        .iter()
        .filter(|l| l["logger"] == "o11y::task")
        .collect();
    assert_eq!(task_lines.len(), 6, "{lines:#?}");
    for line in &task_lines {
        assert_eq!(line["trace_id"], trace_id, "{line}");
    }
    let failed: Vec<&str> = task_lines
        .iter()
        .filter(|l| l["event"] == "task_failed")
        .map(|l| l["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["failed", "panicked"]);

    // Metrics, as scraped from the worker, queue wait included.
    let text = reported(&worker, "prometheus");
    let text = text.as_str().unwrap();
    for outcome in ["succeeded", "failed", "panicked"] {
        let labels = [("task", "process_order"), ("outcome", outcome)];
        assert_eq!(
            sample_value(text, "task_runs_total", &labels),
            Some(1.0),
            "{outcome}"
        );
    }
    let task = [("task", "process_order")];
    assert_eq!(
        sample_value(text, "task_queue_wait_seconds_count", &task),
        Some(3.0)
    );
    let waited = sample_value(text, "task_queue_wait_seconds_sum", &task).unwrap();
    assert!(
        waited >= 0.9,
        "3 tasks waited ≥ 0.3 s each, measured {waited} s in all"
    );

    // One trace across the two processes.
    let spans = rotel.wait_for_spans(Duration::from_secs(10), |spans| {
        spans
            .iter()
            .filter(|s| s["name"] == "process process_order")
            .count()
            >= 3
    });
    let in_trace: Vec<&Value> = spans.iter().filter(|s| s["trace_id"] == trace_id).collect();
    let named = |name: &str| -> Vec<&Value> {
        in_trace
            .iter()
            .copied()
            .filter(|s| s["name"] == name)
            .collect()
    };
    let server = named("POST /orders");
    assert_eq!(server.len(), 1);
    assert_eq!(server[0]["kind"], "server");
    assert_eq!(server[0]["span_id"], request_span_id);
    let publish = named("publish process_order");
    let process = named("process process_order");
    assert_eq!((publish.len(), process.len()), (3, 3), "{spans:#?}");
    for span in &publish {
        assert_eq!(span["kind"], "producer");
        assert_eq!(span["parent_span_id"], request_span_id);
        assert_eq!(span["resource"]["service.name"], "shop");
    }
    for span in &publish {
        assert_eq!(span["attributes"]["messaging.system"], "redis");
        assert_eq!(span["attributes"]["messaging.destination.name"], QUEUE);
    }
    for span in &process {
        assert_eq!(span["kind"], "consumer");
        assert_eq!(span["resource"]["service.name"], "worker");
        // What the producer's span named, carried by the envelope.
        assert_eq!(span["attributes"]["messaging.system"], "redis", "{span:#}");
        assert_eq!(
            span["attributes"]["messaging.destination.name"], QUEUE,
            "{span:#}"
        );
        assert!(
            publish
                .iter()
                .any(|p| p["span_id"] == span["parent_span_id"]),
            "the consumer span's parent is a producer span: {span:#}"
        );
    }
    let errors = process
        .iter()
        .filter(|s| s["status_code"] == "error")
        .count();
    assert_eq!(errors, 2, "the failed and the panicked run");
}
