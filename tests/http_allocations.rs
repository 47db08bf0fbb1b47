//! What the HTTP layer allocates per request: one `GET /orders/{id}`
//! through an axum router, polled to completion in process, counted on this
//! thread (the export thread's work is not the request's), with and without
//! `o11y::http::layer()` and an `#[observe]` handler. Unlike time, the count
//! does not move from run to run, so a change that adds an allocation to
//! every request shows here; what the request costs in time is measured by
//! `benches/http.rs` and `scripts/bench-http.sh`.
#![cfg(all(feature = "axum", not(feature = "off")))]

use o11y_test_support as common;

use std::pin::pin;
use std::task::{Context, Poll, Waker};

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::http::Request;
use axum::routing::get;
use common::in_child;
use tower::ServiceExt;

/// What o11y adds to a request today, each counted once: the request id
/// (shared by the request header, the log context and the response header),
/// and the boxed future and service clone of the route the layer wraps
/// (axum's). The state of the two spans, the request's and the handler's,
/// lives in the subscriber's span slots, which are reused, and so are the
/// buffers of the request span's log context as text (its id and path):
/// none.
const MOST_ADDED_PER_REQUEST: f64 = 3.0;

const WARM_UP: u64 = 200;
const REQUESTS: u64 = 2_000;

/// How the child reports its counts.
const REPORT: &str = "allocations per request (bare, observed): ";

fn order(id: u64) -> String {
    format!(r#"{{"id":{id},"customer":"ada"}}"#)
}

async fn bare_order(Path(id): Path<u64>) -> String {
    order(id)
}

#[o11y::observe(fields(order_id = id))]
async fn observed_order(Path(id): Path<u64>) -> String {
    order(id)
}

/// Polls a future that completes at once (no request here waits for I/O).
fn run_ready<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => unreachable!("an in-process request never waits"),
    }
}

fn request(app: &Router) {
    let request = Request::get("/orders/42")
        .header("host", "127.0.0.1:8080")
        .body(Body::empty())
        .expect("valid request");
    let response = run_ready(app.clone().oneshot(request)).expect("infallible");
    assert!(response.status().is_success(), "{}", response.status());
    run_ready(axum::body::to_bytes(response.into_body(), usize::MAX)).expect("body");
}

/// Allocations per request of `app`, after a warm-up that fills caches,
/// buffers and thread-locals.
fn allocations_per_request(app: &Router) -> f64 {
    for _ in 0..WARM_UP {
        request(app);
    }
    let counted = allocation_counter::measure(|| {
        for _ in 0..REQUESTS {
            request(app);
        }
    });
    counted.count_total as f64 / REQUESTS as f64
}

#[test]
fn the_layer_adds_few_allocations_to_a_request() {
    // `init()` with the prod profile, as a service runs it: 1% sampled,
    // the JSON access log on standard output, which the child's is.
    let output = in_child(
        "the_layer_adds_few_allocations_to_a_request",
        &[
            ("O11Y_PROFILE", "prod"),
            ("OTEL_SERVICE_NAME", "allocations"),
        ],
        || {
            let bare = Router::new()
                .route("/orders/{id}", get(bare_order))
                .with_state(());
            let bare = allocations_per_request(&bare);
            let _guard = o11y::init().expect("init");
            let observed = Router::new()
                .route("/orders/{id}", get(observed_order))
                .layer(o11y::http::layer())
                .with_state(());
            let observed = allocations_per_request(&observed);
            o11y::flush(std::time::Duration::from_secs(5));
            println!("{REPORT}{bare:.2} {observed:.2}");
        },
    );
    assert!(output.completed, "{}", output.combined());
    let report = output
        .stdout
        .lines()
        .find_map(|line| line.strip_prefix(REPORT))
        .unwrap_or_else(|| panic!("no report: {}", output.combined()));
    let (bare, observed) = report.split_once(' ').expect("two counts");
    let (bare, observed): (f64, f64) = (bare.parse().unwrap(), observed.parse().unwrap());
    // Each observed request wrote its access-log line (none was skipped).
    let lines = output
        .stdout
        .matches("\"event\":\"request_finished\"")
        .count();
    assert_eq!(lines as u64, WARM_UP + REQUESTS, "{}", output.combined());

    let added = observed - bare;
    eprintln!("allocations per request: bare {bare:.1}, with o11y {observed:.1} (+{added:.1})");
    assert!(
        added <= MOST_ADDED_PER_REQUEST,
        "o11y adds {added:.1} allocations per request (bare {bare:.1}, with o11y {observed:.1}); \
         at most {MOST_ADDED_PER_REQUEST} expected"
    );
}
