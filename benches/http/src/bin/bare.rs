//! Bare axum: the route and nothing else.

use axum::Router;
use axum::extract::Path;
use axum::response::Response;
use axum::routing::get;
use o11y_bench_http::{answer, report_requests, runtime, serve};

async fn get_order(Path(id): Path<u64>) -> Response {
    answer(id).await
}

fn main() {
    let app = Router::new().route("/orders/{id}", get(get_order));
    runtime().block_on(serve(app));
    report_requests();
}
