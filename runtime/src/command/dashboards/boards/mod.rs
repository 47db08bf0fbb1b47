//! The dashboards: what each shows, and from which metrics, one module
//! per dashboard (HTTP and functions, database and tasks, the
//! application's metrics, objectives, o11y itself) and what they share
//! here. A panel is made only for a metric the catalog lists; the queries
//! use the metric names and labels the runtime exports, filtered by the
//! dashboard's variables (`job`, `instance` and its own labels, `All`
//! being `.*`).

mod application;
mod calls;
mod objectives;
mod own;
mod work;

use serde_json::Value;

use super::grafana::{Board, Target, Variable, target};
use crate::command::inventory::Inventory;

pub(super) const RATE: &str = "$__rate_interval";
pub(super) const HTTP: &str = "http_server_request_duration_seconds";

/// Every dashboard with panels, as `(slug, JSON)`.
pub(super) fn all(inventory: &Inventory) -> Vec<(String, Value)> {
    let boards = [
        ("overview", calls::overview(inventory)),
        ("functions", calls::functions(inventory)),
        ("database", work::database(inventory)),
        ("tasks", work::tasks(inventory)),
        ("application", application::application(inventory)),
        ("slo", objectives::objectives(inventory)),
        ("o11y", own::own(inventory)),
    ];
    boards
        .into_iter()
        .filter(|(_, board)| !board.is_empty())
        .map(|(slug, board)| (slug.to_owned(), board.finish()))
        .collect()
}

pub(super) fn board(inventory: &Inventory, slug: &str, title: &str, description: &str) -> Board {
    let service = &inventory.service;
    let uid: String = format!("o11y-{service}-{slug}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    // Grafana's uids are at most 40 characters; the slug is kept.
    let uid = if uid.len() > 40 {
        format!("{}-{slug}", &uid[..39 - slug.len()])
    } else {
        uid
    };
    Board::new(uid, format!("{service} / {title}"), description, service)
}

/// `job=~"$job",instance=~"$instance"` plus `extra` matchers.
pub(super) fn sel(extra: &[&str]) -> String {
    let mut matchers = vec!["job=~\"$job\"", "instance=~\"$instance\""];
    matchers.extend_from_slice(extra);
    matchers.join(",")
}

/// The `job` and `instance` variables, from `series`.
pub(super) fn job_and_instance(board: &mut Board, series: &str) {
    board.variable(Variable::Label {
        name: "job",
        label: "job",
        series: series.to_owned(),
    });
    board.variable(Variable::Label {
        name: "instance",
        label: "instance",
        series: format!("{series}{{job=~\"$job\"}}"),
    });
}

/// p50, p95 and p99 of `histogram` by `by`, with exemplars.
pub(super) fn quantiles(histogram: &str, selector: &str, by: &str, legend: &str) -> Vec<Target> {
    [0.5, 0.95, 0.99]
        .into_iter()
        .map(|q| {
            let by = if by.is_empty() { "le".to_owned() } else { format!("{by}, le") };
            target(
                format!(
                    "histogram_quantile({q}, sum by ({by}) (rate({histogram}_bucket{{{selector}}}[{RATE}])))"
                ),
                format!("p{} {legend}", (q * 100.0) as u32),
            )
        })
        .collect()
}
