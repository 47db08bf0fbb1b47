//! The N+1 scopes that are not `#[observe]` calls: an HTTP request (the
//! layer's scope owns the queries of a handler that is not observed) and a
//! `#[task_traced]` run. Queries are reported through the public
//! `o11y::db::record_query`, as any driver can.
#![cfg(all(feature = "axum", not(feature = "off")))]

use o11y_test_support as common;

use std::time::Duration;

use axum::Router;
use axum::routing::get;
use common::scenario::{json_lines, o11y_child};
use serde_json::Value;
use tower::ServiceExt;

const PER_ITEM: &str = "SELECT price FROM items WHERE id = 42";

fn queries(n: u32) {
    for _ in 0..n {
        o11y::db::record_query("postgresql", PER_ITEM, Duration::from_micros(300), Some(1));
    }
}

/// Not observed: its queries belong to the request.
async fn items() -> &'static str {
    queries(6);
    "items"
}

async fn few() -> &'static str {
    queries(2);
    "few"
}

#[o11y::task_traced]
async fn reprice(job: o11y::task::Envelope<u32>) -> Result<(), String> {
    queries(job.payload);
    Ok(())
}

fn detections(lines: &[Value]) -> Vec<&Value> {
    lines
        .iter()
        .filter(|line| line["event"] == "n_plus_one_detected")
        .collect()
}

#[test]
fn requests_and_tasks_are_n_plus_one_scopes() {
    let out = o11y_child("requests_and_tasks_are_n_plus_one_scopes").run(|| {
        let _o11y = o11y::init().unwrap();
        let app = Router::new()
            .route("/items", get(items))
            .route("/few", get(few))
            .layer(o11y::http::layer());
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            for path in ["/items", "/few"] {
                let request = axum::extract::Request::get(path)
                    .body(axum::body::Body::empty())
                    .unwrap();
                let response = app.clone().oneshot(request).await.unwrap();
                assert_eq!(response.status(), 200);
            }
            reprice(o11y::task::Envelope::new("reprice", 7))
                .await
                .unwrap();
            reprice(o11y::task::Envelope::new("reprice", 3))
                .await
                .unwrap();
        });
    });
    let lines = json_lines(&out);
    let found = detections(&lines);
    assert_eq!(
        found.len(),
        2,
        "one per scope past the threshold: {found:#?}"
    );

    let request = found
        .iter()
        .find(|line| line["scope"] == "GET /items")
        .unwrap_or_else(|| panic!("the request's scope is named by its route: {found:#?}"));
    assert_eq!(request["count"], 6);
    assert_eq!(
        request["fingerprint"],
        "SELECT price FROM items WHERE id = ?"
    );
    assert!(
        request["request_id"].is_string(),
        "logged inside the request: {request}"
    );

    let task = found
        .iter()
        .find(|line| line["scope"] == "reprice")
        .unwrap_or_else(|| panic!("the task's scope is named by the task: {found:#?}"));
    assert_eq!(task["count"], 7);
    assert!(
        task["trace_id"].is_string(),
        "logged inside the task's span: {task}"
    );
}
