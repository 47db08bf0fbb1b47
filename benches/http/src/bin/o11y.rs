//! o11y: `init()` (configured by the environment the script sets), the
//! server layer, the metrics route, and an `#[observe]` handler.

use axum::Router;
use axum::extract::Path;
use axum::response::Response;
use axum::routing::get;
use o11y_bench_http::{answer, report_requests, runtime, serve};

#[o11y::observe(fields(order_id = id))]
async fn get_order(Path(id): Path<u64>) -> Response {
    answer(id).await
}

fn main() {
    let guard = o11y::init().unwrap_or_else(|e| {
        eprintln!("bench-server: o11y::init failed: {e}");
        std::process::exit(2)
    });
    let runtime = runtime();
    runtime.block_on(async {
        let app = Router::new()
            .route("/orders/{id}", get(get_order))
            .merge(o11y::http::routes())
            .layer(o11y::http::layer());
        serve(app).await;
    });
    drop(runtime);
    drop(guard); // exports what is queued, within shutdown_timeout
    let stats = o11y::export::stats();
    eprintln!(
        "bench-server: spans_exported={} spans_dropped={} span_export_errors={}",
        stats.spans_exported, stats.spans_dropped, stats.span_export_errors
    );
    report_requests();
}
