//! The quickstart and `cargo run --example worker` as two processes through
//! a real Redis: the quickstart's router (in a child process, with
//! `REDIS_URL`) pushes `process_order` envelopes onto the Redis list, and the
//! built worker example (a real process) pops and runs them. rotel receives
//! one trace per placed order, from the request's SERVER span to the
//! worker's CONSUMER span; the worker's JSON lifecycle lines carry that
//! trace, its metrics endpoint counts the runs and the queue wait, a
//! malformed envelope is skipped, and SIGTERM stops it cleanly. Also: the
//! worker's errors at start name `REDIS_URL`, and a push that fails while
//! the quickstart serves does not fail the request.

use o11y_test_support as common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::exposition::sample_value;
use common::scenario::{json_lines, o11y_child, report, reported};
use common::{Redis, Rotel, wait_until};
use o11y_examples::api::spawn_server;
use o11y_examples::queue::{Confirmations, REDIS_LIST};
use o11y_examples::{AppState, router, store};
use serde_json::{Value, json};

/// The worker example's executable. `cargo test -p o11y-examples` builds
/// the package's examples into `target/<profile>/examples/`, beside the
/// `deps/` directory this test binary runs from.
fn worker_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test binary runs from target/<profile>/deps");
    let worker = profile_dir
        .join("examples")
        .join(format!("worker{}", std::env::consts::EXE_SUFFIX));
    assert!(
        worker.is_file(),
        "{} is missing: `cargo test -p o11y-examples` builds it, \
         or `cargo build -p o11y-examples --example worker`",
        worker.display()
    );
    worker
}

/// The worker example running as a process of its own, its output
/// collected line by line as it comes; killed if the test fails first.
struct WorkerProcess {
    child: Child,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<String>>,
    metrics_port: u16,
}

impl WorkerProcess {
    /// The worker, popping from `redis`, exporting to `rotel`, logging JSON
    /// lines on stdout and serving its metrics on a free port.
    fn start(redis: &Redis, rotel: &Rotel) -> WorkerProcess {
        let metrics_port = common::free_port();
        let mut child = Command::new(worker_binary())
            .env_clear()
            .env("REDIS_URL", redis.url())
            .env("METRICS_PORT", metrics_port.to_string())
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
            .env("O11Y_PROFILE", "dev")
            .env("O11Y_LOGGING_FORMAT", "json")
            .env("O11Y_LOGGING_LEVEL", "info")
            .env("O11Y_LOGGING_FILE_ENABLED", "false")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the worker");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let lines = Arc::clone(&stdout);
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line);
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let text = Arc::clone(&stderr);
        let mut err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            let mut all = String::new();
            let _ = err.read_to_string(&mut all);
            text.lock().unwrap().push_str(&all);
        });
        WorkerProcess {
            child,
            stdout,
            stderr,
            metrics_port,
        }
    }

    fn stdout(&self) -> Vec<String> {
        self.stdout.lock().unwrap().clone()
    }

    /// Its JSON log lines so far.
    fn json_lines(&self) -> Vec<Value> {
        self.stdout()
            .iter()
            .filter(|line| line.starts_with('{'))
            .map(|line| serde_json::from_str(line).expect("a JSON log line"))
            .collect()
    }

    /// Waits until its JSON log lines satisfy `pred`.
    fn wait_for_lines(&self, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        wait_until(
            Duration::from_secs(20),
            || self.json_lines(),
            |lines| pred(lines),
            |_| format!("the worker's output:\n{}", self.output()),
        )
    }

    fn output(&self) -> String {
        format!(
            "--- stdout ---\n{}\n--- stderr ---\n{}",
            self.stdout().join("\n"),
            self.stderr.lock().unwrap()
        )
    }

    /// SIGTERM, then its exit status (within 10 s).
    fn terminate(mut self) -> (ExitStatus, String) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -TERM failed");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Its output threads end with its pipes.
                std::thread::sleep(Duration::from_millis(100));
                return (status, self.output());
            }
            assert!(
                Instant::now() < deadline,
                "the worker did not stop within 10 s of SIGTERM:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

const ORDER_1: &str =
    r#"{"customer": "ada", "items": [{"sku": "A-1", "quantity": 2, "unit_price": "9.99"}]}"#;
const ORDER_2: &str =
    r#"{"customer": "bob", "items": [{"sku": "B-2", "quantity": 1, "unit_price": "25.00"}]}"#;
/// Not an envelope: cut short.
const MALFORMED: &str = r#"{"task_name": "process_order", "payload": {"order_id": "#;
/// An entry that is not even text.
const NOT_UTF8: &[u8] = b"\xff\xfe not_utf8";

#[test]
fn the_worker_process_continues_the_request_trace_through_redis() {
    let Some(rotel) = Rotel::start() else {
        return;
    };
    let Some(redis) = Redis::start() else {
        return;
    };
    // The whole test function runs again in the quickstart's child process:
    // only the parent starts the worker.
    let worker = (!common::is_child()).then(|| WorkerProcess::start(&redis, &rotel));

    let quickstart = o11y_child("the_worker_process_continues_the_request_trace_through_redis")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
        .env("OTEL_SERVICE_NAME", "quickstart")
        .env("REDIS_URL", redis.url())
        .run(|| {
            let _o11y = o11y::init().unwrap();
            let runtime = tokio::runtime::Runtime::new().unwrap();
            runtime.block_on(async {
                let migrator = store::migrator().await.unwrap();
                let db = store::open("worker_redis_test", &migrator).await.unwrap();
                let (confirmations, in_process) =
                    Confirmations::from_env(db.clone()).await.unwrap();
                assert!(in_process.is_none(), "REDIS_URL is set: no worker task");
                report("tasks", json!(confirmations.describe()));
                let app = router(AppState { db, confirmations });
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let base = format!("http://{}", listener.local_addr().unwrap());
                let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
                let server = spawn_server(listener, app, stopped);
                let client = reqwest::Client::new();
                let mut placed = Vec::new();
                for (i, body) in [ORDER_1, ORDER_2].into_iter().enumerate() {
                    let response = client
                        .post(format!("{base}/orders"))
                        .header("content-type", "application/json")
                        .body(body)
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(response.status().as_u16(), 201);
                    placed.push(response.json::<Value>().await.unwrap());
                    if i == 0 {
                        // Between the two good envelopes: the worker pops
                        // the list first in, first out.
                        // The reply is the list's length, 1 or 2 as the
                        // worker may have popped the first envelope already.
                        // Two bad entries: cut-off JSON, and bytes that are
                        // not UTF-8 (popped after it).
                        let pushed = redis.cmd(&[
                            b"LPUSH".as_slice(),
                            REDIS_LIST.as_bytes(),
                            MALFORMED.as_bytes(),
                            NOT_UTF8,
                        ]);
                        assert!(matches!(pushed, common::Resp::Int(2 | 3)), "{pushed:?}");
                    }
                }
                report("placed", json!(placed));
                report("pid", json!(std::process::id()));
                let _ = stop.send(());
                server.await.unwrap().unwrap();
            });
        });
    let worker = worker.expect("started in the parent");

    assert!(
        reported(&quickstart, "tasks")
            .as_str()
            .unwrap()
            .starts_with(&format!("Redis list {REDIS_LIST} at {}", redis.url())),
        "the banner's line names the list and the server"
    );
    let placed = reported(&quickstart, "placed");
    let order_ids: Vec<i64> = placed
        .as_array()
        .unwrap()
        .iter()
        .map(|order| order["id"].as_i64().unwrap())
        .collect();
    // The trace of each POST /orders, from the quickstart's log line.
    let quickstart_lines = json_lines(&quickstart);
    let trace_of = |order_id: i64| -> String {
        quickstart_lines
            .iter()
            .find(|l| l["event"] == "order placed" && l["order_id"] == order_id)
            .and_then(|l| l["trace_id"].as_str())
            .unwrap_or_else(|| panic!("no `order placed` line for {order_id}"))
            .to_owned()
    };
    let traces: Vec<String> = order_ids.iter().map(|id| trace_of(*id)).collect();

    // The worker ran both tasks, and skipped the malformed envelope between them.
    let lines = worker.wait_for_lines(|lines| {
        lines
            .iter()
            .filter(|l| l["event"] == "task_succeeded")
            .count()
            == 2
    });
    let position = |pred: &dyn Fn(&Value) -> bool| lines.iter().position(pred);
    let succeeded: Vec<&Value> = lines
        .iter()
        .filter(|l| l["event"] == "task_succeeded")
        .collect();
    for (line, trace) in succeeded.iter().zip(&traces) {
        assert_eq!(line["logger"], "o11y::task", "{line}");
        assert_eq!(line["task_name"], "process_order", "{line}");
        assert_eq!(&line["trace_id"], trace, "in the request's trace: {line}");
    }
    let confirmed: Vec<&Value> = lines
        .iter()
        .filter(|l| l["event"] == "order confirmed")
        .collect();
    assert_eq!(confirmed.len(), 2, "{lines:#?}");
    assert_eq!(confirmed[0]["total"], "19.98", "from the payload");
    assert_eq!(confirmed[1]["customer"], "bob");
    assert_eq!(confirmed[1]["total"], "25.00");
    let skipped = position(&|l| l["event"] == "malformed envelope skipped")
        .unwrap_or_else(|| panic!("the malformed envelope is logged:\n{lines:#?}"));
    assert_eq!(lines[skipped]["level"], "warn");
    assert!(
        lines[skipped]["envelope"]
            .as_str()
            .unwrap()
            .contains("process_order"),
        "the warning shows the envelope: {}",
        lines[skipped]
    );
    let not_utf8 = position(&|l| {
        l["event"] == "malformed envelope skipped"
            && l["envelope"]
                .as_str()
                .is_some_and(|e| e.contains("not_utf8"))
    })
    .unwrap_or_else(|| panic!("an entry that is not UTF-8 is skipped too:\n{lines:#?}"));
    assert!(
        !lines
            .iter()
            .any(|l| l["event"] == "cannot pop tasks from Redis, retrying"),
        "a bad entry is not a Redis failure:\n{lines:#?}"
    );
    let second_started = position(&|l| l["event"] == "task_started" && l["trace_id"] == traces[1])
        .expect("the second task started");
    assert!(
        skipped < second_started && not_utf8 < second_started,
        "the worker went on after the malformed envelopes"
    );

    // Its metrics, from its own endpoint. A run is counted just after its
    // lifecycle line is written: wait for the count rather than race it.
    let runs = |text: &str, outcome| {
        sample_value(
            text,
            "task_runs_total",
            &[("task", "process_order"), ("outcome", outcome)],
        )
    };
    let metrics_url = format!("http://127.0.0.1:{}/metrics", worker.metrics_port);
    let text = wait_until(
        Duration::from_secs(10),
        || {
            common::http::get(&metrics_url)
                .expect("scrape the worker")
                .text()
        },
        |text| runs(text, "succeeded") == Some(2.0),
        |text| format!("two successful runs in the worker's metrics:\n{text}"),
    );
    assert_eq!(runs(&text, "failed"), Some(0.0), "{text}");
    assert_eq!(runs(&text, "panicked"), Some(0.0), "{text}");
    let task = [("task", "process_order")];
    assert_eq!(
        sample_value(&text, "task_queue_wait_seconds_count", &task),
        Some(2.0),
        "{text}"
    );
    assert!(sample_value(&text, "task_queue_wait_seconds_sum", &task).unwrap() > 0.0);

    // One trace per order, across the two processes.
    let spans = rotel.wait_for_spans(Duration::from_secs(15), |spans| {
        traces.iter().all(|trace| {
            spans
                .iter()
                .any(|s| s["trace_id"] == *trace && s["name"] == "process process_order")
        })
    });
    let quickstart_pid = reported(&quickstart, "pid");
    let worker_pid = worker.child.id();
    for trace in &traces {
        let in_trace: HashMap<&str, &Value> = spans
            .iter()
            .filter(|s| s["trace_id"] == *trace)
            .map(|s| (s["span_id"].as_str().unwrap(), s))
            .collect();
        let one = |name: &str| -> &Value {
            let found: Vec<&&Value> = in_trace.values().filter(|s| s["name"] == name).collect();
            assert_eq!(found.len(), 1, "one {name:?} in {trace}: {in_trace:#?}");
            found[0]
        };
        let server = one("POST /orders");
        let publish = one("publish process_order");
        let process = one("process process_order");
        assert_eq!(server["kind"], "server");
        assert_eq!(server["resource"]["service.name"], "quickstart");
        assert_eq!(server["resource"]["process.pid"], quickstart_pid);
        assert_eq!(publish["kind"], "producer");
        assert_eq!(publish["attributes"]["messaging.system"], "redis");
        assert_eq!(
            publish["attributes"]["messaging.destination.name"],
            REDIS_LIST
        );
        assert_eq!(process["kind"], "consumer");
        assert_eq!(process["status_code"], "unset", "{process}");
        // The worker's span names the system and list the quickstart pushed to.
        assert_eq!(process["attributes"]["messaging.system"], "redis");
        assert_eq!(
            process["attributes"]["messaging.destination.name"],
            REDIS_LIST
        );
        assert_eq!(
            process["parent_span_id"], publish["span_id"],
            "the consumer continues the producer span"
        );
        assert_eq!(
            process["resource"]["service.name"], "worker",
            "the executable's name"
        );
        assert_eq!(
            process["resource"]["process.pid"],
            json!(worker_pid),
            "run by the worker process"
        );
        // Up the parent chain, from the worker's span to the request's.
        let mut ancestors = Vec::new();
        let mut span = process;
        while let Some(parent) = in_trace.get(span["parent_span_id"].as_str().unwrap()) {
            ancestors.push(parent["name"].as_str().unwrap());
            span = parent;
        }
        assert_eq!(
            span["span_id"], server["span_id"],
            "the chain ends at the request: {ancestors:?}"
        );
        assert_eq!(
            ancestors.len(),
            3,
            "producer, handler, server: {ancestors:?}"
        );
        assert_eq!(ancestors[0], "publish process_order");
        assert!(ancestors[1].ends_with("place_order"), "{ancestors:?}");
        assert_eq!(ancestors[2], "POST /orders");
    }

    let (status, output) = worker.terminate();
    assert!(status.success(), "the worker exits 0 on SIGTERM:\n{output}");
    assert!(
        output.contains("stopping after the current task"),
        "{output}"
    );
}

#[test]
fn the_worker_names_redis_url_when_it_cannot_start() {
    let run = |redis_url: Option<String>| {
        let mut command = Command::new(worker_binary());
        command
            .env_clear()
            .env("O11Y_LOGGING_FILE_ENABLED", "false")
            .env("METRICS_PORT", common::free_port().to_string());
        if let Some(url) = redis_url {
            command.env("REDIS_URL", url);
        }
        let output = command.output().expect("run the worker");
        assert!(!output.status.success(), "{output:?}");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let unset = run(None);
    assert!(unset.contains("REDIS_URL is not set"), "{unset}");
    // Nothing listens on a port just handed out and released.
    let refused = run(Some(format!("redis://127.0.0.1:{}", common::free_port())));
    assert!(
        refused.contains("cannot use Redis at REDIS_URL=redis://127.0.0.1:"),
        "{refused}"
    );
}

/// Redis gone while the quickstart serves: the push fails (logged), and the
/// order is still placed and answered.
#[tokio::test]
async fn a_failed_push_does_not_fail_the_request() {
    let Some(redis) = Redis::start() else {
        return;
    };
    let migrator = store::migrator().await.unwrap();
    let db = store::open("worker_redis_push_fails", &migrator)
        .await
        .unwrap();
    let confirmations = Confirmations::redis(&redis.url()).await.unwrap();
    let app = router(AppState { db, confirmations });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = spawn_server(listener, app, stopped);
    drop(redis); // stops the server

    let response = reqwest::Client::new()
        .post(format!("{base}/orders"))
        .header("content-type", "application/json")
        .body(ORDER_1)
        .timeout(Duration::from_secs(15))
        .send()
        .await
        .expect("an answer despite Redis being gone");
    assert_eq!(response.status().as_u16(), 201);
    let order: Value = response.json().await.unwrap();
    assert_eq!(order["total"], "19.98");
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
