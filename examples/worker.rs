//! The quickstart's task worker, a process of its own: pops the
//! `process_order` envelopes that `REDIS_URL=... cargo run --example
//! quickstart` pushes onto a Redis list, and runs each in the trace of the
//! request that placed the order. No HTTP server: its metrics get a
//! listener of their own.
//!
//! ```text
//! REDIS_URL=redis://127.0.0.1:6379 cargo run --example worker                    # metrics on 127.0.0.1:9464
//! REDIS_URL=redis://127.0.0.1:6379 METRICS_PORT=9465 cargo run --example worker  # another port
//! ```
//!
//! SIGTERM or Ctrl-C: the current task finishes, what is queued for export
//! is exported (`o11y::task::shutdown()`), and the worker exits 0.

use o11y_examples::queue::{REDIS_LIST, REDIS_URL_VAR, redacted};
use o11y_examples::worker::RedisWorker;

/// The environment variable naming the port of the worker's metrics.
const METRICS_PORT_VAR: &str = "METRICS_PORT";
/// Prometheus's customary port for an exporter.
const DEFAULT_METRICS_PORT: u16 = 9464;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("worker: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let url = match std::env::var(REDIS_URL_VAR) {
        Ok(url) if !url.is_empty() => url,
        _ => {
            return Err(format!(
                "{REDIS_URL_VAR} is not set: the worker pops tasks from a Redis list, e.g. \
                 {REDIS_URL_VAR}=redis://127.0.0.1:6379 cargo run --example worker \
                 (the quickstart needs the same {REDIS_URL_VAR}; without it, it runs its tasks in process)"
            )
            .into());
        }
    };
    let metrics_port: u16 = match std::env::var(METRICS_PORT_VAR) {
        Ok(port) => port
            .parse()
            .map_err(|_| format!("{METRICS_PORT_VAR}={port:?} is not a port number"))?,
        Err(_) => DEFAULT_METRICS_PORT,
    };
    // As in the quickstart: info unless RUST_LOG or O11Y_LOGGING_LEVEL say.
    let mut builder = o11y::Config::builder();
    if std::env::var_os("RUST_LOG").is_none() && std::env::var_os("O11Y_LOGGING_LEVEL").is_none() {
        builder = builder.log_level("info");
    }
    let config = builder.build()?;
    let endpoint = config.tracing.otlp_endpoint.clone();
    let metrics_path = config.metrics.endpoint.clone();
    let console = config.dev_console.enabled;
    let o11y = o11y::init_with(config)?;
    let metrics = o11y::metrics::serve(("127.0.0.1", metrics_port)).map_err(|e| {
        format!("{e} (set {METRICS_PORT_VAR} to another port, e.g. when two workers run)")
    })?;
    let worker = RedisWorker::connect(&url).await?;

    println!(
        "\no11y worker: running process_order tasks from Redis list {REDIS_LIST} at {}",
        redacted(&url)
    );
    println!("metrics: http://{}{metrics_path}", metrics.local_addr());
    // Its own console, on the metrics listener: what this process alone did.
    let console_url = console.then(|| {
        format!(
            "http://{}{}/",
            metrics.local_addr(),
            o11y::dev_console::PREFIX
        )
    });
    println!(
        "{}",
        o11y_examples::traces_banner(endpoint.as_deref(), console_url.as_deref())
    );
    println!();

    let (stop, stopping) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        stop_signal().await;
        println!("\nstopping after the current task");
        let _ = stop.send(true);
    });
    worker.run(stopping).await;

    // The last tasks' spans and log lines, exported within a bounded wait.
    let exported = o11y::task::shutdown();
    if !exported {
        eprintln!("worker: not everything was exported before the shutdown timeout");
    }
    drop(metrics);
    drop(o11y);
    Ok(())
}

/// SIGTERM (what a process manager sends) or Ctrl-C.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut sigterm) => {
                tokio::select! {
                    _ = sigterm.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
                return;
            }
            Err(error) => eprintln!("no SIGTERM handler ({error}): stop with Ctrl-C"),
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
