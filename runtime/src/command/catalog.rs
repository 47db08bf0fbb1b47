//! The `catalog` command: the link-time metric catalog
//! ([`metrics::catalog`]), as a table for people or, with `--json`, as one
//! JSON document for tools (the dashboard and alert rule generators read
//! it). The document's schema, version [`CATALOG_SCHEMA_VERSION`]:
//!
//! ```json
//! {
//!   "schema_version": 1,
//!   "o11y_version": "0.1.0",
//!   "service": "checkout",
//!   "metrics": [
//!     {
//!       "name": "http_server_request_duration_seconds",
//!       "type": "histogram",
//!       "help": "Duration of HTTP server requests",
//!       "unit": "seconds",
//!       "labels": ["http_request_method", "http_route", "http_response_status_code"],
//!       "buckets": [0.005, 0.01, 0.025],
//!       "declared_at": "runtime/src/http/metrics.rs:20",
//!       "origin": "o11y"
//!     }
//!   ]
//! }
//! ```
//!
//! - `service`: the configured service name, `null` when the configuration
//!   does not load;
//! - `metrics`: sorted by name; `type` is `counter`, `gauge` or
//!   `histogram`; a counter's `name` ends in `_total`; `unit` is `null`
//!   when none is declared; `buckets` are a histogram's upper bounds
//!   (`+Inf` implied), empty for other types; `declared_at` is the
//!   `file:line` of the declaration, as `file!()` spells it; `origin` is
//!   `o11y` for o11y's own metrics (HTTP, database, tasks, its pipeline)
//!   and `application` for the program's (`#[metric]`).
//!
//! A change that removes or redefines a field raises the schema version;
//! new fields may be added within a version.

use std::io::Write;

use serde_json::{Value, json};

use super::args::{Args, Failure};
use super::{Context, Outcome, Output};
use crate::metrics::{self, CatalogEntry};

/// The version of the `catalog --json` document's schema.
pub const CATALOG_SCHEMA_VERSION: u32 = 1;

pub(super) const USAGE: &str = "\
usage: cargo o11y catalog [--example NAME | --bin NAME | -p PACKAGE] [--json] [--out FILE]
       O11Y_COMMAND=catalog O11Y_COMMAND_ARGS='[--json] [--out FILE]' <program>

Lists every metric the program can emit, from its link-time catalog: name,
type, unit, labels, buckets and help.

  --json      one JSON document (schema_version 1) instead of a table
  --out FILE  write it to FILE instead of stdout";

pub(super) fn run(
    args: &mut Args,
    context: &Context<'_>,
    output: &mut Output<'_>,
) -> Result<Outcome, Failure> {
    let as_json = args.flag("--json");
    let file = args.value("--out")?;
    args.finish(&["--json", "--out"])?;

    // A catalog that `init()` would refuse (a name declared twice, a
    // broken rule) is no basis for dashboards: said, and exit status 1.
    if let Err(error) = metrics::check() {
        writeln!(output.err, "o11y catalog: {error}")?;
        return Ok(Outcome::Failed);
    }
    let entries = metrics::catalog();
    let mut text = Vec::new();
    if as_json {
        let service = context.config.ok().map(|c| c.service_name.as_str());
        let document = document(&entries, service);
        serde_json::to_writer_pretty(&mut text, &document).map_err(std::io::Error::from)?;
        text.push(b'\n');
    } else {
        write_table(&entries, &mut text)?;
    }
    match file {
        None => output.out.write_all(&text)?,
        Some(path) => {
            if let Err(error) = std::fs::write(&path, &text) {
                writeln!(output.err, "o11y catalog: cannot write {path}: {error}")?;
                return Ok(Outcome::Failed);
            }
            writeln!(output.out, "{} metrics written to {path}", entries.len())?;
        }
    }
    Ok(Outcome::Passed)
}

/// The JSON document (see the module docs for its schema).
fn document(entries: &[CatalogEntry], service: Option<&str>) -> Value {
    let metrics: Vec<Value> = entries
        .iter()
        .map(|entry| {
            json!({
                "name": entry.name,
                "type": entry.kind.as_str(),
                "help": entry.help,
                "unit": entry.unit,
                "labels": entry.labels,
                "buckets": entry.buckets,
                "declared_at": entry.declared_at,
                "origin": if entry.own { "o11y" } else { "application" },
            })
        })
        .collect();
    json!({
        "schema_version": CATALOG_SCHEMA_VERSION,
        "o11y_version": env!("CARGO_PKG_VERSION"),
        "service": service,
        "metrics": metrics,
    })
}

/// A table: one metric a line, columns aligned.
fn write_table(entries: &[CatalogEntry], out: &mut dyn Write) -> std::io::Result<()> {
    let rows: Vec<[String; 6]> = entries
        .iter()
        .map(|entry| {
            [
                entry.name.to_owned(),
                entry.kind.as_str().to_owned(),
                entry.unit.unwrap_or("-").to_owned(),
                if entry.labels.is_empty() {
                    "-".to_owned()
                } else {
                    entry.labels.join(",")
                },
                buckets(entry.buckets),
                entry.help.to_owned(),
            ]
        })
        .collect();
    let header = ["NAME", "TYPE", "UNIT", "LABELS", "BUCKETS", "HELP"].map(str::to_owned);
    let mut widths = [0; 5];
    for row in std::iter::once(&header).chain(&rows) {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (cell, width) in row.iter().zip(widths) {
            line.push_str(&format!("{cell:<width$}  "));
        }
        line.push_str(&row[5]);
        writeln!(out, "{line}")?;
    }
    let count = entries.len();
    writeln!(out, "\n{count} metric{}", if count == 1 { "" } else { "s" })
}

/// A histogram's bounds, `0.005,0.01,…,10`; `-` for other types.
fn buckets(bounds: &[f64]) -> String {
    if bounds.is_empty() {
        return "-".to_owned();
    }
    let shown: Vec<String> = bounds.iter().map(|b| b.to_string()).collect();
    shown.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::MetricKind;

    fn entries() -> Vec<CatalogEntry> {
        metrics::catalog()
    }

    #[test]
    fn the_document_lists_every_metric_with_its_declaration() {
        let entries = entries();
        let document = document(&entries, Some("shop"));
        assert_eq!(document["schema_version"], CATALOG_SCHEMA_VERSION);
        assert_eq!(document["service"], "shop");
        let listed = document["metrics"].as_array().unwrap();
        assert_eq!(listed.len(), entries.len());
        let histogram = entries
            .iter()
            .find(|e| e.kind == MetricKind::Histogram)
            .expect("the runtime declares histograms");
        let shown = listed.iter().find(|m| m["name"] == histogram.name).unwrap();
        assert_eq!(shown["type"], "histogram");
        assert_eq!(shown["help"], histogram.help);
        assert_eq!(shown["labels"], json!(histogram.labels));
        assert_eq!(shown["buckets"], json!(histogram.buckets));
        assert_eq!(shown["unit"], json!(histogram.unit));
        assert_eq!(shown["declared_at"], histogram.declared_at);
    }

    #[test]
    fn the_table_has_a_row_per_metric() {
        let entries = entries();
        let mut out = Vec::new();
        write_table(&entries, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("NAME "), "{text}");
        for entry in &entries {
            assert!(
                text.lines()
                    .any(|line| line.starts_with(&format!("{} ", entry.name))),
                "{} missing: {text}",
                entry.name
            );
        }
        assert!(
            text.ends_with(&format!("\n{} metrics\n", entries.len())),
            "{text}"
        );
    }
}
