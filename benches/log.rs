//! What one JSON log line costs: the access-log event of the HTTP layer
//! (`request_finished` with `status` and `duration_ms`) inside a request
//! span carrying log-context fields, through o11y's prod-profile layers
//! (JSON lines on standard output, batched when it is not a terminal).
//!
//! Standard output takes the lines: redirect it, or criterion's report
//! drowns in them (the figures are in `target/criterion/log_line/`).
//!
//! ```text
//! cargo bench --bench log -- --warm-up-time 1 --measurement-time 3 > /dev/null
//! ```

use std::hint::black_box;

// Only the o11y dispatcher is used here.
#[allow(dead_code)]
mod common;

use common::o11y_dispatch;
use criterion::{Criterion, criterion_group, criterion_main};

fn log_line(c: &mut Criterion) {
    let mut group = c.benchmark_group("log_line");
    let (dispatch, guard) = o11y_dispatch(true, 1.0);
    tracing::dispatcher::with_default(&dispatch, || {
        // Like the HTTP layer's request span: its log context is what every
        // line of the request carries.
        let span = tracing::info_span!(
            target: "o11y::http",
            "HTTP request",
            request_id = "3f2a9c1e-5b7d-4e21-9a0c-7d1e2f3a4b5c",
            http.method = "GET",
            path = "/orders/42",
        );
        group.bench_function("request_finished", |b| {
            b.iter(|| {
                tracing::info!(
                    target: "o11y::http",
                    parent: &span,
                    status = black_box(200u16),
                    duration_ms = black_box(1.234_f64),
                    "request_finished"
                )
            })
        });
        group.bench_function("no_span", |b| {
            b.iter(|| tracing::info!(order_id = black_box(7u64), "order placed"))
        });
    });
    group.finish();
    drop(guard);
}

criterion_group!(benches, log_line);
criterion_main!(benches);
