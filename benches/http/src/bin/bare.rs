//! Bare axum: the route and nothing else.

use axum::extract::Path;
use axum::routing::get;
use axum::{Json, Router};
use o11y_bench_http::{Order, order, report_requests, runtime, serve};

async fn get_order(Path(id): Path<u64>) -> Json<Order> {
    Json(order(id))
}

fn main() {
    let app = Router::new().route("/orders/{id}", get(get_order));
    runtime().block_on(serve(app));
    report_requests();
}
