//! o11y itself: what its pipeline exported and dropped, series overflow,
//! refused scrapes, redactions, running versions.

use super::{RATE, board, job_and_instance, sel};
use crate::command::dashboards::grafana::{Board, Kind, panel, target};
use crate::command::inventory::Inventory;

pub(super) fn own(inventory: &Inventory) -> Board {
    let mut board = board(
        inventory,
        "o11y",
        "o11y itself",
        "What o11y's pipeline did: spans and log records exported and dropped, export errors, series overflow, refused scrapes, redactions",
    );
    let Some(series) = ["o11y_build_info", "o11y_spans_exported_total"]
        .into_iter()
        .find(|name| inventory.has(name))
    else {
        return board;
    };
    job_and_instance(&mut board, series);
    let rate = |metric: &str, by: &str| {
        let by = if by.is_empty() {
            String::new()
        } else {
            format!(" by ({by})")
        };
        format!("sum{by} (rate({metric}{{{}}}[{RATE}]))", sel(&[]))
    };
    let present = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .filter(|(metric, _)| inventory.has(metric))
            .map(|(metric, legend)| target(rate(metric, ""), *legend))
            .collect::<Vec<_>>()
    };
    let mut spans = present(&[("o11y_spans_exported_total", "exported")]);
    if inventory.has("o11y_spans_dropped_total") {
        // By reason: a full queue or a failed export, or tail sampling's caps.
        spans.push(target(
            rate("o11y_spans_dropped_total", "reason"),
            "dropped ({{reason}})",
        ));
    }
    spans.extend(present(&[(
        "o11y_span_export_errors_total",
        "failed export calls",
    )]));
    if !spans.is_empty() {
        board.panel(panel(
            "Spans",
            "Spans exported, and dropped by reason, per second; failed export calls",
            "ops",
            spans,
        ));
    }
    let logs = present(&[
        ("o11y_logs_exported_total", "exported"),
        (
            "o11y_logs_dropped_total",
            "dropped (queue full or export failed)",
        ),
        ("o11y_log_export_errors_total", "failed export calls"),
        (
            "o11y_metric_export_errors_total",
            "failed OTLP metric pushes",
        ),
    ]);
    if !logs.is_empty() {
        board.panel(panel(
            "Log records and metric pushes",
            "Log records exported and dropped per second, failed export calls",
            "ops",
            logs,
        ));
    }
    for (metric, label, title) in [
        (
            "o11y_metric_series_overflow_total",
            "metric",
            "Series overflow by metric",
        ),
        (
            "o11y_metrics_scrapes_refused_total",
            "reason",
            "Refused scrapes by reason",
        ),
        (
            "o11y_redactions_total",
            "signal, rule",
            "Redactions by signal and rule",
        ),
    ] {
        if inventory.has(metric) {
            let legend = label
                .split(", ")
                .map(|l| format!("{{{{{l}}}}}"))
                .collect::<Vec<_>>()
                .join(" ");
            board.panel(panel(
                title,
                inventory.metric(metric).map_or("", |m| m.help),
                "ops",
                vec![target(rate(metric, label), legend)],
            ));
        }
    }
    if inventory.has("o11y_build_info") {
        board.panel(
            panel(
                "Running versions",
                "Service and o11y versions of each instance",
                "short",
                vec![target(format!("o11y_build_info{{{}}}", sel(&[])), "")],
            )
            .kind(Kind::Table, 24),
        );
    }
    board
}
