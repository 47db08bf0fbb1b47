//! The quickstart: runs with no external server. It initialises o11y with
//! the dev profile's defaults, does a little "work" inside nested spans, and
//! shows what you get: console log lines carrying trace ids and span
//! fields, the JSON log file, and (with `OTEL_EXPORTER_OTLP_ENDPOINT` set)
//! spans and logs exported over OTLP.
//!
//! ```text
//! cargo run --example quickstart
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4317 cargo run --example quickstart
//! ```

use std::time::Duration;

#[tracing::instrument(skip(lines), fields(items = lines.len()))]
fn price_order(order_id: u64, lines: &[(&str, u32, f64)]) -> f64 {
    let total: f64 = lines
        .iter()
        .map(|(_, quantity, price)| f64::from(*quantity) * price)
        .sum();
    tracing::debug!(total, "priced");
    total
}

fn place_order(order_id: u64, customer: &'static str) -> Result<f64, String> {
    let span = tracing::info_span!("place_order", order_id, otel.kind = "server");
    let _entered = span.enter();
    o11y::tag("customer", customer);

    let total = price_order(order_id, &[("A-1", 2, 9.99), ("B-7", 1, 24.5)]);
    std::thread::sleep(Duration::from_millis(5));
    if total > 40.0 {
        tracing::warn!(total, limit = 40.0, "order needs manual review");
    }
    tracing::info!(total, "order placed");
    Ok(total)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = o11y::Config::load()?;
    let log_file = config
        .logging
        .file_enabled
        .then(|| config.logging.file_path.clone());
    let endpoint = config.tracing.otlp_endpoint.clone();
    let guard = o11y::init_with(config)?;

    for (order_id, customer) in [(1001, "ada"), (1002, "grace")] {
        place_order(order_id, customer)?;
    }
    log::info!("a record from the `log` crate is captured too");

    drop(guard); // exports what is still queued, within shutdown_timeout
    println!();
    println!("What you just saw: one console line per event, each with the trace_id and span_id");
    println!("of the span it was written in and the fields of every enclosing span.");
    match log_file {
        Some(path) => println!("The same lines as JSON: {}", path.display()),
        None => println!("JSON log file: off in this profile (logging.file_enabled)"),
    }
    match endpoint {
        Some(endpoint) => println!("Spans were exported over OTLP to {endpoint}."),
        None => println!(
            "To export spans, point it at a collector: \
             OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4317 cargo run --example quickstart"
        ),
    }
    let stats = o11y::export::stats();
    println!(
        "Spans exported: {}, dropped: {}",
        stats.spans_exported, stats.spans_dropped
    );
    Ok(())
}
