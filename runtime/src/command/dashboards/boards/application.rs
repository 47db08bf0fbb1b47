//! The application's own metrics (`#[metric]`), a panel each by type.

use super::{RATE, board, job_and_instance, quantiles, sel};
use crate::command::dashboards::grafana::{Board, Panel, panel, target};
use crate::command::inventory::Inventory;
use crate::metrics::{CatalogEntry, MetricKind};

/// A panel for one of the application's metrics, by its type.
fn application_panel(entry: &CatalogEntry) -> Panel {
    let selector = sel(&[]);
    let labels = entry.labels.join(", ");
    let legend = if entry.labels.is_empty() {
        entry.name.to_owned()
    } else {
        entry
            .labels
            .iter()
            .map(|label| format!("{{{{{label}}}}}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let by = if labels.is_empty() {
        String::new()
    } else {
        format!(" by ({labels})")
    };
    let description = format!("{} ({}, {})", entry.help, entry.name, entry.kind.as_str());
    match entry.kind {
        MetricKind::Counter => panel(
            entry.help,
            description,
            "ops",
            vec![target(
                format!("sum{by} (rate({}{{{selector}}}[{RATE}]))", entry.name),
                legend,
            )],
        ),
        MetricKind::Gauge => panel(
            entry.help,
            description,
            unit(entry.unit),
            vec![target(
                format!("sum{by} ({}{{{selector}}})", entry.name),
                legend,
            )],
        ),
        MetricKind::Histogram => panel(
            entry.help,
            description,
            unit(entry.unit),
            quantiles(entry.name, &selector, &labels, &legend),
        )
        .with_exemplars(),
    }
}

/// Grafana's unit for a metric's unit.
fn unit(unit: Option<&str>) -> &'static str {
    match unit {
        Some("seconds") => "s",
        Some("bytes") => "bytes",
        Some("ratio") => "percentunit",
        _ => "short",
    }
}

pub(super) fn application(inventory: &Inventory) -> Board {
    let mut board = board(
        inventory,
        "application",
        "Application metrics",
        "The application's own metrics (#[metric]), a panel each: rate for counters, quantiles for histograms, value for gauges",
    );
    let entries: Vec<&CatalogEntry> = inventory.application_metrics().collect();
    let Some(first) = entries.first() else {
        return board;
    };
    let series = match first.kind {
        MetricKind::Histogram => format!("{}_count", first.name),
        _ => first.name.to_owned(),
    };
    job_and_instance(&mut board, &series);
    for entry in entries {
        board.panel(application_panel(entry));
    }
    board
}
