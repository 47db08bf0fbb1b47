//! The quickstart service end to end: its router served on loopback, every
//! route answered as documented, its JSON log lines (one N+1 warning for
//! `GET /orders`, none for `GET /orders/fast`), its background worker, and
//! its spans in a real collector (rotel).

use o11y_test_support as common;

use std::time::Duration;

use common::scenario::{json_lines, o11y_child, report, reported};
use o11y_examples::api::spawn_server;
use o11y_examples::{AppState, queue::Confirmations, router, store};
use serde_json::{Value, json};

/// Serves the quickstart on a free loopback port for the duration of `f`.
async fn with_quickstart<F: Future<Output = ()>>(f: impl FnOnce(String) -> F) {
    let migrator = store::migrator().await.expect("migrations");
    let db = store::open("quickstart_test", &migrator)
        .await
        .expect("database");
    let (confirmations, worker) = Confirmations::in_process(db.clone());
    let app = router(AppState { db, confirmations });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = spawn_server(listener, app, stopped);
    f(base).await;
    let _ = stop.send(());
    server.await.unwrap().unwrap();
    worker.await.unwrap();
}

async fn call(
    client: &reqwest::Client,
    method: &str,
    url: &str,
    body: Option<&str>,
) -> (u16, Value) {
    let mut request = client.request(method.parse().unwrap(), url);
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_owned());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[test]
fn every_route_answers_as_documented_and_the_n_plus_one_is_flagged_once() {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    let out = o11y_child("every_route_answers_as_documented_and_the_n_plus_one_is_flagged_once")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
        .run(|| {
            let _o11y = o11y::init().unwrap();
            let runtime = tokio::runtime::Runtime::new().unwrap();
            runtime.block_on(with_quickstart(|base| async move {
                let client = reqwest::Client::new();
                let mut answers = serde_json::Map::new();
                for (key, method, path, body) in [
                    ("one", "GET", "/orders/1", None),
                    ("missing", "GET", "/orders/999", None),
                    ("list", "GET", "/orders", None),
                    ("fast", "GET", "/orders/fast", None),
                    (
                        "placed",
                        "POST",
                        "/orders",
                        Some(r#"{"customer": "ada", "items": [{"sku": "A-1", "quantity": 2, "unit_price": "9.99"}]}"#),
                    ),
                    (
                        "invalid",
                        "POST",
                        "/orders",
                        Some(r#"{"customer": "ada", "items": [{"sku": "A-1", "quantity": 0, "unit_price": "9.99"}]}"#),
                    ),
                    ("malformed", "POST", "/orders", Some("{\"customer\": ")),
                    ("boom", "GET", "/boom", None),
                    ("health", "GET", "/health", None),
                ] {
                    let (status, body) = call(&client, method, &format!("{base}{path}"), body).await;
                    answers.insert(key.to_owned(), json!({ "status": status, "body": body }));
                }
                // The worker confirms the placed order shortly after.
                let placed = answers["placed"]["body"]["id"].as_i64().unwrap();
                let mut status = String::new();
                for _ in 0..100 {
                    let (_, order) = call(&client, "GET", &format!("{base}/orders/{placed}"), None).await;
                    status = order["status"].as_str().unwrap().to_owned();
                    if status == "confirmed" {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                answers.insert("confirmed".to_owned(), json!(status));
                let metrics = client.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
                answers.insert("metrics".to_owned(), json!(metrics));
                report("answers", Value::Object(answers));
            }));
        });
    let answers = reported(&out, "answers");
    let answer = |key: &str| {
        (
            answers[key]["status"].as_u64().unwrap(),
            &answers[key]["body"],
        )
    };

    let (status, one) = answer("one");
    assert_eq!(status, 200);
    assert_eq!(one["customer"], "ada");
    assert_eq!(one["total"], "44.48");
    assert_eq!(one["items"].as_array().unwrap().len(), 2);
    assert_eq!(answer("missing").0, 404);
    let (status, list) = answer("list");
    assert_eq!(status, 200);
    let (_, fast) = answer("fast");
    assert_eq!(
        list, fast,
        "the N+1 route and the joined one return the same orders"
    );
    assert_eq!(list.as_array().unwrap().len(), 8, "the seed orders");
    let (status, placed) = answer("placed");
    assert_eq!(status, 201);
    assert_eq!(placed["status"], "pending");
    assert_eq!(placed["total"], "19.98");
    let (status, invalid) = answer("invalid");
    assert_eq!(status, 422);
    assert_eq!(invalid["field"], "items[0].quantity");
    let (status, malformed) = answer("malformed");
    assert_eq!(status, 422);
    assert_eq!(malformed["field"], "body");
    let (status, boom) = answer("boom");
    assert_eq!(status, 500);
    assert_eq!(
        boom["error"], "internal server error",
        "no details leak to the client"
    );
    assert_eq!(answer("health").0, 200);
    assert_eq!(
        answers["confirmed"], "confirmed",
        "the worker confirmed the order"
    );

    // One N+1 warning, for GET /orders, naming its handler; none for the rest.
    let lines = json_lines(&out);
    let n_plus_one: Vec<&Value> = lines
        .iter()
        .filter(|l| l["event"] == "n_plus_one_detected")
        .collect();
    assert_eq!(n_plus_one.len(), 1, "{n_plus_one:#?}");
    let warning = n_plus_one[0];
    assert_eq!(warning["level"], "warn");
    assert!(
        warning.to_string().contains("list_orders"),
        "the warning names the handler: {warning}"
    );
    assert!(
        warning["request_id"].is_string(),
        "inside the request: {warning}"
    );
    assert_eq!(
        warning["path"], "/orders",
        "GET /orders/fast flagged nothing"
    );
    assert_eq!(warning["count"], 8, "one query per seed order: {warning}");
    assert_eq!(
        warning["fingerprint"],
        "SELECT sku, quantity, unit_price_cents FROM order_items WHERE order_id = ? ORDER BY rowid"
    );
    // Every handler log line carries the request's ids.
    let placed_line = lines
        .iter()
        .find(|l| l["event"] == "order placed")
        .expect("order placed logged");
    assert!(placed_line["trace_id"].is_string() && placed_line["request_id"].is_string());

    let metrics = answers["metrics"].as_str().unwrap();
    assert!(metrics.contains("orders_placed_total 1"), "{metrics}");
    assert!(metrics.contains("db_n_plus_one_total{"), "{metrics}");

    // The spans of GET /orders in the collector: the server span, the
    // handler under it, and the queries under the handler.
    let spans = rotel.wait_for_spans(Duration::from_secs(10), |spans| {
        spans.iter().any(|s| s["name"] == "GET /orders")
    });
    let server = spans.iter().find(|s| s["name"] == "GET /orders").unwrap();
    let trace = &server["trace_id"];
    let in_trace: Vec<&Value> = spans.iter().filter(|s| &s["trace_id"] == trace).collect();
    let handler = in_trace
        .iter()
        .find(|s| s["name"].as_str().unwrap().ends_with("list_orders"))
        .expect("the handler's span");
    assert_eq!(handler["parent_span_id"], server["span_id"]);
    assert_eq!(
        handler["attributes"]["db.n_plus_one.detected"], true,
        "{handler}"
    );
    let queries: Vec<&str> = in_trace
        .iter()
        .filter(|s| s["parent_span_id"] == handler["span_id"])
        .filter_map(|s| s["attributes"]["db.query.text"].as_str())
        .collect();
    let per_order =
        "SELECT sku, quantity, unit_price_cents FROM order_items WHERE order_id = ? ORDER BY rowid";
    assert_eq!(
        queries.iter().filter(|q| **q == per_order).count(),
        8,
        "one query per order, literals replaced: {queries:#?}"
    );
    assert_eq!(
        queries
            .iter()
            .filter(|q| q.starts_with("SELECT id, customer, status FROM orders"))
            .count(),
        1,
        "one query for the orders: {queries:#?}"
    );
}
