//! The `stack` command: a Docker Compose stack for development, written to
//! a directory with every config it needs: Grafana (datasources wired to
//! each other, the generated dashboards provisioned), Prometheus (scraping
//! the program and its worker, exemplar storage on, the generated rules
//! loaded), Tempo, Loki, an OpenTelemetry Collector (OTLP in; traces to
//! Tempo, logs to Loki) and Pyroscope, on pinned image versions. The
//! configs are the files beside this module, with the program's names and
//! addresses put in.

use std::path::Path;

use super::args::{Args, Failure};
use super::dashboards;
use super::inventory::Inventory;
use super::rules;
use super::{Context, Outcome, Output};

pub(super) const USAGE: &str = "\
usage: cargo o11y stack [--example NAME | --bin NAME | -p PACKAGE] --out DIR
                        [--app HOST:PORT] [--worker HOST:PORT]
       O11Y_COMMAND=stack O11Y_COMMAND_ARGS='--out DIR' <program>

Writes a Docker Compose stack for development (no authentication, no
persistent storage): Grafana on :3000 with the generated dashboards,
Prometheus on :9090 with the generated rules and exemplars, Tempo on :3200,
Loki on :3100, an OpenTelemetry Collector on :4317/:4318 and Pyroscope on
:4040. Then: cd DIR && docker compose up -d, and run the program with
OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4317.

  --out DIR          the directory to write the stack to (created if missing)
  --app HOST:PORT    where Prometheus scrapes the program
                     (default host.docker.internal:3000)
  --worker HOST:PORT where it scrapes the worker's metrics server
                     (default host.docker.internal:9464)";

const COMPOSE: &str = include_str!("files/docker-compose.yml");
const PROMETHEUS: &str = include_str!("files/prometheus.yml");
const DATASOURCES: &str = include_str!("files/datasources.yml");
const DASHBOARDS: &str = include_str!("files/dashboards.yml");
const TEMPO: &str = include_str!("files/tempo.yml");
const LOKI: &str = include_str!("files/loki.yml");
const COLLECTOR: &str = include_str!("files/otel-collector.yml");

/// The uid the provisioned Prometheus datasource has, which the
/// dashboards' import input is set to.
const PROMETHEUS_UID: &str = "prometheus";

pub(super) fn run(
    args: &mut Args,
    context: &Context<'_>,
    output: &mut Output<'_>,
) -> Result<Outcome, Failure> {
    let dir = args.value("--out")?;
    let app = args
        .value("--app")?
        .unwrap_or_else(|| "host.docker.internal:3000".to_owned());
    let worker = args
        .value("--worker")?
        .unwrap_or_else(|| "host.docker.internal:9464".to_owned());
    args.finish(&["--out", "--app", "--worker"])?;
    let Some(dir) = dir else {
        return Err(Failure::Usage(
            "--out DIR is required: the directory to write the stack to".to_owned(),
        ));
    };
    let metrics_path = match context.config {
        Ok(config) => config.metrics.endpoint.clone(),
        Err(_) => crate::config::DEFAULT_METRICS_ENDPOINT.to_owned(),
    };
    let inventory = match Inventory::gather(context.config) {
        Ok(inventory) => inventory,
        Err(problem) => {
            writeln!(output.err, "o11y stack: {problem}")?;
            return Ok(Outcome::Failed);
        }
    };
    let addresses = Addresses {
        app,
        worker,
        metrics_path,
    };
    if let Err(problem) = write_stack(&inventory, &addresses, Path::new(&dir)) {
        writeln!(output.err, "o11y stack: {problem}")?;
        return Ok(Outcome::Failed);
    }
    writeln!(
        output.out,
        "stack written to {dir}\n\n  cd {dir} && docker compose up -d\n  \
         OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4317 <run the program>\n\n\
         Grafana http://localhost:3000 (dashboards in the o11y folder), \
         Prometheus http://localhost:9090 (scraping {} and {})",
        addresses.app, addresses.worker
    )?;
    Ok(Outcome::Passed)
}

/// Where Prometheus finds the program and its worker.
struct Addresses {
    app: String,
    worker: String,
    metrics_path: String,
}

/// A value as YAML reads it: JSON-quoted.
fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

fn write_stack(inventory: &Inventory, addresses: &Addresses, dir: &Path) -> Result<(), String> {
    let service = &inventory.service;
    let prometheus = PROMETHEUS
        .replace("@APP_JOB@", &quoted(service))
        .replace("@WORKER_JOB@", &quoted(&format!("{service}-worker")))
        .replace("@METRICS_PATH@", &quoted(&addresses.metrics_path))
        .replace("@APP@", &quoted(&addresses.app))
        .replace("@WORKER@", &quoted(&addresses.worker));
    let files = [
        ("docker-compose.yml", COMPOSE.to_owned()),
        ("prometheus/prometheus.yml", prometheus),
        (
            "prometheus/o11y-rules.yml",
            rules::rule_file(inventory).yaml.to_text(),
        ),
        (
            "grafana/provisioning/datasources/o11y.yml",
            DATASOURCES.to_owned(),
        ),
        (
            "grafana/provisioning/dashboards/o11y.yml",
            DASHBOARDS.to_owned(),
        ),
        ("tempo/tempo.yml", TEMPO.to_owned()),
        ("loki/loki.yml", LOKI.to_owned()),
        ("otel-collector/config.yml", COLLECTOR.to_owned()),
    ];
    for (name, text) in files {
        write(&dir.join(name), &text)?;
    }
    // Provisioned dashboards are not imported: the import input is set here.
    for (file, board) in dashboards::dashboards(inventory) {
        let text = serde_json::to_string_pretty(&board)
            .map_err(|e| e.to_string())?
            .replace("${DS_PROMETHEUS}", PROMETHEUS_UID);
        write(&dir.join("grafana/dashboards").join(file), &text)?;
    }
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
