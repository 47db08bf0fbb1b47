//! The floor of a `tracing` request context: bare axum plus the two spans
//! o11y keeps per request (the request's, and the handler's with its
//! `order_id` field), entered around the handler under a bare
//! `tracing_subscriber::Registry`, with no layer: nothing is sampled,
//! recorded or logged. What any request context built on `tracing` spans
//! costs before it does anything (prod configuration only).

use axum::Router;
use axum::extract::Path;
use axum::response::Response;
use axum::routing::get;
use o11y_bench_http::{answer, report_requests, runtime, serve};
use tracing::Instrument;

async fn get_order(Path(id): Path<u64>) -> Response {
    answer(id)
        .instrument(tracing::info_span!("get_order", order_id = id))
        .instrument(tracing::info_span!("HTTP request"))
        .await
}

fn main() {
    tracing::subscriber::set_global_default(tracing_subscriber::registry())
        .expect("no other subscriber is installed");
    let app = Router::new().route("/orders/{id}", get(get_order));
    runtime().block_on(serve(app));
    report_requests();
}
