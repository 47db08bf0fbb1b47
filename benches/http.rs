//! What the HTTP layer costs per request, in process: one `GET
//! /orders/{id}` through an axum router, polled to completion without a
//! socket, so only the request's own work is timed (no kernel, no network,
//! none of the swings `scripts/bench-http.sh` sees on a shared machine).
//!
//! Cases, each router built once:
//! - `bare`: the route alone;
//! - `floor`: the route inside the two `tracing` spans o11y keeps per
//!   request, under a bare `Registry` (nothing sampled, recorded or logged);
//! - `o11y_prod`: `o11y::http::layer()` and an `#[observe]` handler under
//!   the prod profile's layers, 1% sampled, JSON access log on standard
//!   output;
//! - `o11y_quiet`: the same without the access log;
//! - `o11y_recorded`: the same as `o11y_prod`, every request sampled and
//!   exported into an in-process sink;
//! - `o11y_prod_tail`: `o11y_prod` with the prod profile's tail rules on
//!   (the other o11y cases have none): every request is recorded, and the
//!   99 in 100 the head sampler leaves out are dropped when they end.
//! - `o11y_dev`: the dev profile's defaults (every request sampled, DEBUG
//!   level, access log), exported into the in-process sink, the dev console
//!   off, JSON lines on standard output (so that they can be filtered out);
//! - `o11y_dev_console`: the same with the dev console on (`dev_console.
//!   enabled`, the dev profile's default): what its store adds to a request.
//!
//! `tests/http_allocations.rs` counts the heap allocations of the same
//! request, which unlike its time do not move from run to run.
//!
//! Standard output takes the access-log lines too: filter them out.
//!
//! ```text
//! cargo bench --bench http --features axum -- --warm-up-time 1 --measurement-time 3 | grep -v '^{'
//! ```
//!
//! With `HTTP_CASE=<case>` the binary instead sends that case's request
//! 200 times, then `HTTP_REQUESTS` times (2,000 by default) through
//! `one_request`, for counting instructions per request, which unlike
//! time are the same from run to run:
//!
//! ```text
//! CARGO_PROFILE_RELEASE_DEBUG=line-tables-only cargo build --release --bench http --features axum
//! HTTP_CASE=o11y_quiet valgrind --tool=callgrind --toggle-collect='*one_request*' \
//!     target/release/deps/http-<hash> > /dev/null
//! ```

use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

// Only the o11y dispatcher is used here.
#[allow(dead_code)]
mod common;

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::http::Request;
use axum::routing::get;
use common::o11y_dispatch_of;
use criterion::{Criterion, criterion_group};
use tower::ServiceExt;
use tracing::{Dispatch, Instrument};

/// The answer of every case, a small JSON object (as bench-http.sh's
/// servers answer).
fn order(id: u64) -> String {
    format!(
        r#"{{"id":{id},"customer":"ada","status":"paid","total_cents":{}}}"#,
        1998 + id % 100
    )
}

async fn bare_order(Path(id): Path<u64>) -> String {
    order(id)
}

async fn floor_order(Path(id): Path<u64>) -> String {
    async move { order(id) }
        .instrument(tracing::info_span!("get_order", order_id = id))
        .instrument(tracing::info_span!("HTTP request"))
        .await
}

#[o11y::observe(fields(order_id = id))]
async fn observed_order(Path(id): Path<u64>) -> String {
    order(id)
}

/// A router ready to serve (its state given, so routes are built once, as
/// `axum::serve` does).
fn router(app: Router) -> Router {
    app.with_state(())
}

/// One request as `wrk` sends it, through `app`, to the end of its body.
fn request(app: &Router) -> usize {
    let request = Request::get("/orders/42")
        .header("host", "127.0.0.1:8080")
        .body(Body::empty())
        .expect("valid request");
    let response = run_ready(app.clone().oneshot(request)).expect("infallible");
    let body = run_ready(axum::body::to_bytes(response.into_body(), usize::MAX));
    body.map(|bytes| bytes.len()).unwrap_or(0)
}

/// Polls a future that completes at once (no case waits for I/O).
fn run_ready<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => unreachable!("the benchmarked request never waits"),
    }
}

/// The cases, each with the dispatcher its requests run under.
struct Case {
    name: &'static str,
    app: Router,
    dispatch: Dispatch,
    _guard: Option<o11y::Guard>,
}

/// The observed route under o11y's layer, with `config` installed.
fn observed_case(name: &'static str, config: o11y::config::ConfigBuilder) -> Case {
    let (dispatch, guard) = o11y_dispatch_of(config);
    let app = Router::new()
        .route("/orders/{id}", get(observed_order))
        .layer(o11y::http::layer());
    Case {
        name,
        app: router(app),
        dispatch,
        _guard: Some(guard),
    }
}

/// Builds the cases one at a time: the o11y layers of a case configure the
/// process (flags, HTTP settings) when they are built.
fn each_case(mut f: impl FnMut(&Case)) {
    let bare = router(Router::new().route("/orders/{id}", get(bare_order)));
    f(&Case {
        name: "bare",
        app: bare,
        dispatch: Dispatch::none(),
        _guard: None,
    });
    f(&Case {
        name: "floor",
        app: router(Router::new().route("/orders/{id}", get(floor_order))),
        dispatch: Dispatch::new(tracing_subscriber::registry()),
        _guard: None,
    });
    for (name, sample_rate, access_log, tail) in [
        ("o11y_prod", 0.01, true, false),
        ("o11y_quiet", 0.01, false, false),
        ("o11y_recorded", 1.0, true, false),
        // prod's tail rules on; the request is fast and answers 200: it is
        // recorded, held and dropped (99 in 100) or head-sampled (1 in 100).
        ("o11y_prod_tail", 0.01, true, true),
    ] {
        let mut config = common::prod_config()
            .sample_rate(sample_rate)
            .http_access_log(access_log);
        if !tail {
            config = config.keep_errors(false).keep_slower_than(None);
        }
        f(&observed_case(name, config));
    }
    for (name, console) in [("o11y_dev", false), ("o11y_dev_console", true)] {
        let config = o11y::Config::builder()
            .env_vars(Vec::<(String, String)>::new())
            .no_config_file()
            .profile(o11y::config::Profile::Dev)
            .log_file_enabled(false)
            .log_format(o11y::config::LogFormat::Json)
            .dev_console_enabled(console);
        f(&observed_case(name, config));
    }
}

fn http_request(c: &mut Criterion) {
    let mut group = c.benchmark_group("http_request");
    each_case(|case| {
        tracing::dispatcher::with_default(&case.dispatch, || {
            group.bench_function(case.name, |b| b.iter(|| black_box(request(&case.app))));
        });
    });
    group.finish();
}

/// One request, kept out of line for `valgrind --toggle-collect`.
#[inline(never)]
fn one_request(app: &Router) -> usize {
    black_box(request(app))
}

/// The `HTTP_CASE` mode; see the module documentation.
fn count_requests(wanted: &str) {
    let requests = std::env::var("HTTP_REQUESTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000);
    let mut found = false;
    each_case(|case| {
        if case.name != wanted {
            return;
        }
        found = true;
        tracing::dispatcher::with_default(&case.dispatch, || {
            for _ in 0..200 {
                black_box(request(&case.app));
            }
            for _ in 0..requests {
                one_request(&case.app);
            }
        });
    });
    assert!(
        found,
        "HTTP_CASE={wanted:?} is not a case of this benchmark"
    );
}

criterion_group!(benches, http_request);

fn main() {
    match std::env::var("HTTP_CASE") {
        Ok(case) => count_requests(&case),
        Err(_) => {
            benches();
            Criterion::default().configure_from_args().final_summary();
        }
    }
}
