//! `--demo-traffic`: the quickstart sends a few requests to itself, one of
//! each kind, and prints what came back and which metric lines to look at.

use std::time::Duration;

/// One request of the tour.
struct Visit {
    method: &'static str,
    path: &'static str,
    body: Option<&'static str>,
    what: &'static str,
}

const TOUR: &[Visit] = &[
    Visit {
        method: "GET",
        path: "/orders/1",
        body: None,
        what: "one order, one query",
    },
    Visit {
        method: "GET",
        path: "/orders",
        body: None,
        what: "an N+1: look for n_plus_one_detected in the log",
    },
    Visit {
        method: "GET",
        path: "/orders/fast",
        body: None,
        what: "the same data, one joined query",
    },
    Visit {
        method: "POST",
        path: "/orders",
        body: Some(
            r#"{"customer": "ada", "items": [{"sku": "A-1", "quantity": 2, "unit_price": "9.99"}]}"#,
        ),
        what: "an order placed, then confirmed by the background worker",
    },
    Visit {
        method: "POST",
        path: "/orders",
        body: Some(
            r#"{"customer": "ada", "items": [{"sku": "A-1", "quantity": 0, "unit_price": "9.99"}]}"#,
        ),
        what: "an invalid body: 422 naming the field",
    },
    Visit {
        method: "GET",
        path: "/orders/999",
        body: None,
        what: "not found: 404, not an error span",
    },
    Visit {
        method: "GET",
        path: "/boom",
        body: None,
        what: "a handler error: 500, an error span and log line",
    },
];

/// Metric families worth a look after the tour.
const METRICS: &[&str] = &[
    "http_server_request_duration_seconds_count",
    "function_calls_total",
    "orders_placed_total",
    "db_client_queries_total",
    "db_n_plus_one_total",
    "task_runs_total",
];

/// Runs the tour against `base` (`http://127.0.0.1:PORT`) and prints it.
pub async fn run(base: &str) -> Result<(), reqwest::Error> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    println!("\n--- demo traffic: one request of each kind ---");
    for visit in TOUR {
        let url = format!("{base}{}", visit.path);
        let request = match visit.body {
            Some(body) => client
                .request(visit.method.parse().expect("a valid method"), &url)
                .header("content-type", "application/json")
                .body(body),
            None => client.request(visit.method.parse().expect("a valid method"), &url),
        };
        let response = request.send().await?;
        let status = response.status().as_u16();
        let request_id = response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_owned();
        let body = response.text().await?;
        println!(
            "{:4} {:12} -> {status}  request_id={request_id}  ({})",
            visit.method, visit.path, visit.what
        );
        if status >= 400 {
            println!("     body: {body}");
        }
    }
    // Let the worker confirm the order placed above.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let metrics = client
        .get(format!("{base}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    println!("\n--- from GET /metrics ---");
    for line in metrics.lines() {
        if METRICS.iter().any(|name| line.starts_with(name)) {
            println!("{line}");
        }
    }
    Ok(())
}
