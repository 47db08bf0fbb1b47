//! The dev console in a real browser: headless Chromium over WebDriver
//! (chromedriver, a peer) opens the quickstart's `/o11y/` while the
//! quickstart (in a child process, dev profile, no collector) serves its
//! demo traffic and the worker example (a real process, through Redis)
//! exports its spans to the quickstart's OTLP receiver. The requests page
//! lists the requests; `GET /orders` opens a waterfall whose 8 per-order
//! queries are one fingerprint ×8 marked N+1, with its log lines; the
//! worker's consumer span is on the `POST /orders` trace page; a request
//! header `<script>alert(1)</script>` recorded on a span shows as text;
//! a client outside `dev_console.allow_from` gets 403. Screenshots of the
//! requests page and of a trace page go to `<target>/o11y-artifacts/`.

use o11y_test_support as common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::scenario::o11y_child;
use common::{Chromedriver, Redis};
use fantoccini::{Client, ClientBuilder, Locator};
use o11y_examples::api::spawn_server;
use o11y_examples::queue::Confirmations;
use o11y_examples::{AppState, demo, router, store};
use serde_json::{Value, json};

const HOSTILE: &str = "<script>alert(1)</script>";
/// The environment variable giving the child the port to serve on, chosen
/// by the parent so that the worker it starts can export there.
const PORT_VAR: &str = "DEV_CONSOLE_TEST_PORT";

/// The worker example's executable, built by `cargo test -p o11y-examples`
/// into `target/<profile>/examples/`.
fn worker_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test binary runs from target/<profile>/deps");
    let worker = profile_dir.join("examples").join("worker");
    assert!(
        worker.is_file(),
        "{} is missing: `cargo test -p o11y-examples` builds it",
        worker.display()
    );
    worker
}

/// The worker process, killed when the test ends.
struct Worker(Child);

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The worker, exporting its spans and log records to the quickstart's
/// dev console at `port` over OTLP/HTTP.
fn start_worker(redis: &Redis, port: u16) -> Worker {
    let child = Command::new(worker_binary())
        .env_clear()
        .env("REDIS_URL", redis.url())
        .env("METRICS_PORT", common::free_port().to_string())
        .env("OTEL_SERVICE_NAME", "worker")
        .env(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("http://127.0.0.1:{port}/o11y"),
        )
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
        .env("O11Y_LOGGING_OTLP_ENABLED", "true")
        .env("O11Y_PROFILE", "dev")
        .env("O11Y_LOGGING_LEVEL", "info")
        .env("O11Y_LOGGING_FILE_ENABLED", "false")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the worker");
    Worker(child)
}

async fn browser(driver: &Chromedriver) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({ "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1400,1000"] }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(capabilities)
        .connect(&driver.url())
        .await
        .unwrap_or_else(|e| panic!("a Chromium session: {e}\n{}", driver.log()))
}

/// Retries `check` (which reloads what it reads) for up to 20 s.
async fn eventually<T, F: Future<Output = Result<T, String>>>(mut check: impl FnMut() -> F) -> T {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match check().await {
            Ok(value) => return value,
            Err(why) if Instant::now() >= deadline => panic!("timed out after 20 s: {why}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

/// The trace id of the newest request listed for the filter `query` whose
/// row matches the CSS selector `row`.
async fn trace_of(client: &Client, base: &str, query: &str, row: &str) -> String {
    eventually(|| async {
        client
            .goto(&format!("{base}/o11y/?{query}"))
            .await
            .map_err(|e| e.to_string())?;
        let row = client
            .find(Locator::Css(&format!("#requests tbody {row}")))
            .await
            .map_err(|e| format!("no request row {row} for {query}: {e}"))?;
        row.attr("data-trace-id")
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| "a row without its trace id".to_owned())
    })
    .await
}

async fn save_screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.expect("a screenshot");
    let path = common::artifacts_dir().join(name);
    std::fs::write(&path, png).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    println!("screenshot: {}", path.display());
}

/// What the page's script can tell: its visible text, and whether any
/// `<script>` element of it holds `alert(1)`.
async fn page_text(client: &Client) -> (String, bool) {
    let text = client
        .execute("return document.body.innerText;", vec![])
        .await
        .unwrap();
    let injected = client
        .execute(
            "return Array.from(document.scripts).some(s => s.textContent.includes('alert(1)'));",
            vec![],
        )
        .await
        .unwrap();
    (
        text.as_str().unwrap_or("").to_owned(),
        injected == Value::Bool(true),
    )
}

async fn drive(driver: &Chromedriver, base: &str) {
    let client = browser(driver).await;

    // The requests page lists the tour, newest first, with its badges.
    client.goto(&format!("{base}/o11y/")).await.unwrap();
    let rows = eventually(|| async {
        client.refresh().await.map_err(|e| e.to_string())?;
        let rows = client
            .find_all(Locator::Css("#requests tbody tr[data-trace-id]"))
            .await
            .map_err(|e| e.to_string())?;
        let mut texts = Vec::new();
        for row in rows {
            texts.push(row.text().await.map_err(|e| e.to_string())?);
        }
        let all = texts.join("\n");
        let listed = ["/orders/{id}", "/orders/fast", "/boom", "POST"]
            .iter()
            .all(|part| all.contains(part));
        if listed && texts.len() >= 7 {
            Ok(texts)
        } else {
            Err(format!("rows so far:\n{all}"))
        }
    })
    .await;
    let all = rows.join("\n");
    assert!(
        rows.iter()
            .any(|r| r.contains("/boom") && r.contains("500") && r.contains("error")),
        "{all}"
    );
    assert!(
        rows.iter().any(|r| r.contains("GET") && r.contains("N+1")),
        "{all}"
    );
    save_screenshot(&client, "dev-console-requests.png").await;

    // GET /orders: one fingerprint ×8, marked N+1, and its log lines.
    let list = trace_of(
        &client,
        base,
        "route=%2Forders&status=200",
        r#"tr[data-method="GET"][data-route="/orders"]"#,
    )
    .await;
    client
        .goto(&format!("{base}/o11y/trace/{list}"))
        .await
        .unwrap();
    let group = client
        .find(Locator::Css("#queries tr.n-plus-one"))
        .await
        .expect("an N+1 group");
    assert_eq!(
        group.attr("data-count").await.unwrap().as_deref(),
        Some("8")
    );
    let group_text = group.text().await.unwrap();
    assert!(
        group_text.contains("×8") && group_text.contains("N+1"),
        "{group_text}"
    );
    assert!(
        group_text.contains("order_id = ?"),
        "a fingerprint: {group_text}"
    );
    let lines = client
        .find_all(Locator::Css("#waterfall tr.log-row"))
        .await
        .unwrap();
    let mut line_texts = Vec::new();
    for line in lines {
        line_texts.push(line.text().await.unwrap());
    }
    assert!(
        line_texts.iter().any(|l| l.contains("n_plus_one_detected")),
        "{line_texts:#?}"
    );
    assert!(
        line_texts.iter().any(|l| l.contains("request_finished")),
        "{line_texts:#?}"
    );
    assert!(
        client
            .find_all(Locator::Css("#waterfall tr.span-row"))
            .await
            .unwrap()
            .len()
            >= 10
    );
    save_screenshot(&client, "dev-console-trace.png").await;

    // POST /orders: the worker's consumer span, from the other process.
    let placed = trace_of(
        &client,
        base,
        "route=%2Forders&status=201",
        r#"tr[data-method="POST"][data-route="/orders"]"#,
    )
    .await;
    let consumer = eventually(|| async {
        client
            .goto(&format!("{base}/o11y/trace/{placed}"))
            .await
            .map_err(|e| e.to_string())?;
        let row = client
            .find(Locator::Css("#waterfall tr.span-row[data-kind=consumer]"))
            .await
            .map_err(|e| format!("no consumer span yet: {e}"))?;
        row.text().await.map_err(|e| e.to_string())
    })
    .await;
    assert!(
        consumer.contains("worker"),
        "the worker's service: {consumer}"
    );
    let producer = client
        .find(Locator::Css("#waterfall tr.span-row[data-kind=producer]"))
        .await;
    assert!(producer.is_ok(), "the enqueueing side is on the same page");

    // The hostile header, recorded on the span, is text on the page.
    let hostile = trace_of(&client, base, "q=hostile", "tr[data-trace-id]").await;
    client
        .goto(&format!("{base}/o11y/trace/{hostile}"))
        .await
        .unwrap();
    client
        .find(Locator::Css("#waterfall details summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let (text, injected) = page_text(&client).await;
    assert!(text.contains(HOSTILE), "shown as text:\n{text}");
    assert!(!injected, "no script element holds the request's text");
    assert!(client.get_alert_text().await.is_err(), "no alert ran");

    client.close().await.unwrap();
}

#[test]
fn the_dev_console_shows_the_quickstart_and_its_worker_in_a_browser() {
    let Some(redis) = Redis::start() else { return };
    let Some(driver) = Chromedriver::start() else {
        return;
    };
    let port = match std::env::var(PORT_VAR) {
        Ok(port) => port.parse().expect("a port"),
        Err(_) => common::free_port(),
    };
    // Only the parent starts the worker; the child serves on the same port.
    let _worker = (!common::is_child()).then(|| start_worker(&redis, port));

    let out = o11y_child("the_dev_console_shows_the_quickstart_and_its_worker_in_a_browser")
        .env(PORT_VAR, port.to_string())
        .env("OTEL_SERVICE_NAME", "quickstart")
        .env("REDIS_URL", redis.url())
        .env("O11Y_HTTP_CAPTURE_HEADERS", "x-note")
        // The browser connects from 127.0.0.1; 127.0.0.2 is another client.
        .env("O11Y_DEV_CONSOLE_ALLOW_FROM", "127.0.0.1/32,::1/128")
        .timeout(Duration::from_secs(150))
        .run(|| {
            let _o11y = o11y::init().unwrap();
            let runtime = tokio::runtime::Runtime::new().unwrap();
            runtime.block_on(async {
                let migrator = store::migrator().await.unwrap();
                let db = store::open("dev_console_browser", &migrator).await.unwrap();
                let (confirmations, _) = Confirmations::from_env(db.clone()).await.unwrap();
                let app = router(AppState { db, confirmations });
                let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
                    .await
                    .unwrap();
                let base = format!("http://127.0.0.1:{port}");
                let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
                let server = spawn_server(listener, app, stopped);

                demo::run(&base).await.unwrap();
                let client = reqwest::Client::new();
                let hostile = client
                    .get(format!("{base}/orders/1?hostile=1"))
                    .header("x-note", HOSTILE)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(hostile.status().as_u16(), 200);

                let outsider = reqwest::Client::builder()
                    .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
                    .build()
                    .unwrap();
                let refused = outsider.get(format!("{base}/o11y/")).send().await.unwrap();
                assert_eq!(
                    refused.status().as_u16(),
                    403,
                    "a client outside dev_console.allow_from"
                );

                drive(&driver, &base).await;
                let _ = stop.send(());
                server.await.unwrap().unwrap();
            });
        });
    assert!(out.stdout.contains("screenshot: "), "{}", out.combined());
    for line in out.stdout.lines().filter(|l| l.starts_with("screenshot: ")) {
        common::stderr_line(line);
    }
}
