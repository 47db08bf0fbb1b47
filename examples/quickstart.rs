//! The quickstart: an observed axum service with an embedded SQLite
//! database, no external server needed.
//!
//! ```text
//! cargo run --example quickstart                       # serve on 127.0.0.1:3000 (PORT overrides)
//! cargo run --example quickstart -- --demo-traffic     # send a tour of requests to itself, print, exit
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4317 cargo run --example quickstart
//! # the dev console (dev profile): http://127.0.0.1:3000/o11y/
//! REDIS_URL=redis://127.0.0.1:6379 cargo run --example quickstart   # tasks for `--example worker`
//! ```

use o11y_examples::{AppState, api, demo, queue::Confirmations, store};

const USAGE: &str = "usage: cargo run --example quickstart [-- --demo-traffic]";

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // Errors as their messages say them (returned from `main`, they would
    // show in their Debug form, quoted and escaped).
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("quickstart: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let demo_traffic = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        [] => false,
        ["--demo-traffic"] => true,
        ["--help" | "-h"] => {
            println!("{USAGE}");
            return Ok(());
        }
        _ => return Err(format!("unexpected arguments {args:?}\n{USAGE}").into()),
    };
    // The dev profile logs at debug, which includes every query sqlx runs
    // and hyper's connection chatter: the tour is easier to read at info.
    // RUST_LOG or O11Y_LOGGING_LEVEL still decide when set.
    let mut builder = o11y::Config::builder();
    if std::env::var_os("RUST_LOG").is_none() && std::env::var_os("O11Y_LOGGING_LEVEL").is_none() {
        builder = builder.log_level("info");
    }
    let config = builder.build()?;
    let log_file = config
        .logging
        .file_enabled
        .then(|| config.logging.file_path.clone());
    let endpoint = config.tracing.otlp_endpoint.clone();
    let metrics_path = config.metrics.endpoint.clone();
    let console = config.dev_console.enabled;
    let o11y = o11y::init_with(config)?;

    let migrator = store::migrator().await?;
    let db = store::open("quickstart", &migrator).await?;
    o11y::db::refresh_migrations(&db, &migrator, "quickstart").await?;
    let (confirmations, worker) = Confirmations::from_env(db.clone()).await?;
    let tasks = confirmations.describe();
    // Kept to count what is still queued at the end (and dropped then: the
    // worker stops once the last handle is gone).
    let queue = confirmations.clone();
    let app = api::router(AppState { db, confirmations });

    // The tour binds any free port, so that it runs beside a quickstart
    // already serving on 3000.
    let port: u16 = match std::env::var("PORT") {
        Ok(port) => port
            .parse()
            .map_err(|_| format!("PORT={port:?} is not a port number"))?,
        Err(_) if demo_traffic => 0,
        Err(_) => 3000,
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| {
            format!("cannot listen on 127.0.0.1:{port}: {e} (set PORT to another port)")
        })?;
    let base = format!("http://{}", listener.local_addr()?);

    println!("\no11y quickstart: serving {base}");
    for route in api::ROUTES {
        println!("  {route}");
    }
    match &log_file {
        Some(path) => println!(
            "logs: this console, and as JSON lines in {}",
            path.display()
        ),
        None => println!("logs: this console (the JSON log file is off: logging.file_enabled)"),
    }
    println!("metrics: {base}{metrics_path}");
    println!("tasks: {tasks}");
    let console_url = console.then(|| format!("{base}{}/", o11y::dev_console::PREFIX));
    println!(
        "{}",
        o11y_examples::traces_banner(endpoint.as_deref(), console_url.as_deref())
    );
    if let Some(console_url) = &console_url {
        println!("{}", o11y_examples::console_receiver_banner(console_url));
    }
    println!();

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = api::spawn_server(listener, app, stopped);

    if demo_traffic {
        demo::run(&base).await?;
    } else {
        tokio::signal::ctrl_c().await?;
        println!("\nstopping");
    }
    let _ = stop.send(());
    server.await??;
    // The router held the last queue handle: the in-process worker drains
    // and stops (a worker process drains the Redis list on its own). A
    // second Ctrl-C stops without waiting for the rest.
    let waiting = queue.waiting();
    drop(queue);
    if let Some(mut worker) = worker {
        if waiting > 0 {
            println!("confirming the {waiting} orders still queued (Ctrl-C again to stop now)");
        }
        tokio::select! {
            finished = &mut worker => finished?,
            _ = tokio::signal::ctrl_c(), if !demo_traffic => {
                worker.abort();
                println!("stopped; orders still queued stay pending");
            }
        }
    }
    drop(o11y); // exports what is still queued, within shutdown_timeout

    if demo_traffic {
        let stats = o11y::export::stats();
        println!("\nWhat to look at:");
        println!("- each log line above carries request_id, trace_id and span_id;");
        println!("  GET /orders logged one n_plus_one_detected warning naming list_orders;");
        if let Some(path) = &log_file {
            println!("- the same lines as JSON: {}", path.display());
        }
        println!("- the metric lines above: RED metrics per route, per function, per query;");
        match &endpoint {
            Some(endpoint) => println!(
                "- spans exported to {endpoint}: {} (dropped: {})",
                stats.spans_exported, stats.spans_dropped
            ),
            None if console_url.is_some() => println!(
                "- traces: the dev console shows them while the quickstart serves \
                 (run it without --demo-traffic, then open {base}/o11y/)"
            ),
            None => println!(
                "- spans: point OTEL_EXPORTER_OTLP_ENDPOINT at a collector to see the traces"
            ),
        }
    }
    Ok(())
}
