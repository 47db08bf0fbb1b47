//! What the benchmark servers share: the route's answer (with the faults
//! of the prod-tail configuration), the listener, graceful shutdown, and
//! the request count printed at exit.
//!
//! Each server binds `BENCH_ADDR` (default `127.0.0.1:8080`), serves until
//! SIGINT or SIGTERM, then prints `bench-server: requests=N` on stderr
//! (after its own telemetry is flushed, for the o11y and standard servers,
//! which print more `bench-server:` lines).
//!
//! With `BENCH_FAULT_EVERY=N` (the prod-tail configuration), one request in
//! N answers 500 and another one in N sleeps `BENCH_SLOW_MS` first (25 by
//! default); the server then also prints `bench-server: failed=F slow=S`.

use std::net::SocketAddr;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

static REQUESTS: AtomicU64 = AtomicU64::new(0);
/// Requests that asked for an answer so far: each takes its number here.
static ASKED: AtomicU64 = AtomicU64::new(0);
static FAILED: AtomicU64 = AtomicU64::new(0);
static SLOW: AtomicU64 = AtomicU64::new(0);

/// `BENCH_FAULT_EVERY` and `BENCH_SLOW_MS`, read once: `None` without faults.
static FAULTS: LazyLock<Option<(u64, Duration)>> = LazyLock::new(|| {
    let every: u64 = std::env::var("BENCH_FAULT_EVERY").ok()?.parse().ok()?;
    let slow_ms: u64 = std::env::var("BENCH_SLOW_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .unwrap_or(25);
    (every >= 2).then_some((every, Duration::from_millis(slow_ms)))
});

/// The route's answer: a small JSON object.
#[derive(Debug, Serialize)]
pub struct Order {
    pub id: u64,
    pub customer: &'static str,
    pub status: &'static str,
    pub total_cents: u64,
    pub items: [Item; 2],
}

#[derive(Debug, Serialize)]
pub struct Item {
    pub sku: &'static str,
    pub quantity: u32,
}

/// The order `id`, as every server answers it (and counts it).
pub fn order(id: u64) -> Order {
    REQUESTS.fetch_add(1, Ordering::Relaxed);
    Order {
        id,
        customer: "ada",
        status: "paid",
        total_cents: 1998 + id % 100,
        items: [
            Item {
                sku: "A-1",
                quantity: 2,
            },
            Item {
                sku: "B-7",
                quantity: 1,
            },
        ],
    }
}

/// The answer to `GET /orders/{id}`: the order, except with faults on
/// (see the crate documentation), where the request's number in the run
/// decides: one in N fails with a 500, another one in N sleeps first.
pub async fn answer(id: u64) -> Response {
    let Some((every, slow)) = *FAULTS else {
        return Json(order(id)).into_response();
    };
    // A number of its own: requests waiting at once must not share one.
    let number = ASKED.fetch_add(1, Ordering::Relaxed);
    if number % every == every / 2 {
        FAILED.fetch_add(1, Ordering::Relaxed);
        REQUESTS.fetch_add(1, Ordering::Relaxed);
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    if number % every == every - 1 {
        SLOW.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(slow).await;
    }
    Json(order(id)).into_response()
}

/// Requests answered so far.
pub fn requests() -> u64 {
    REQUESTS.load(Ordering::Relaxed)
}

/// A multi-thread Tokio runtime with the default worker count: one per CPU
/// the process may run on (one under `taskset -c 0`).
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Serves `app` on `BENCH_ADDR` until SIGINT/SIGTERM.
pub async fn serve(app: Router) {
    let addr = std::env::var("BENCH_ADDR").unwrap_or_else(|_| "127.0.0.1:8080".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .unwrap_or_else(|e| panic!("bind {addr}: {e}"));
    eprintln!("bench-server: listening on {addr}");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown())
    .await
    .expect("serve");
}

async fn shutdown() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

/// The last line every server prints (and the faults line before it,
/// with faults on).
pub fn report_requests() {
    if FAULTS.is_some() {
        eprintln!(
            "bench-server: failed={} slow={}",
            FAILED.load(Ordering::Relaxed),
            SLOW.load(Ordering::Relaxed)
        );
    }
    eprintln!("bench-server: requests={}", requests());
}
