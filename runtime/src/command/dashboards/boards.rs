//! The dashboards: what each shows, and from which metrics. A panel is
//! made only for a metric the catalog lists; the queries use the metric
//! names and labels the runtime exports, filtered by the dashboard's
//! variables (`job`, `instance` and its own labels, `All` being `.*`).

use serde_json::Value;

use super::grafana::{Board, Kind, Panel, Variable, panel, target};
use crate::command::inventory::Inventory;
use crate::command::slos::{self, Sli};
use crate::metrics::{CatalogEntry, MetricKind};

const RATE: &str = "$__rate_interval";
const HTTP: &str = "http_server_request_duration_seconds";

/// Every dashboard with panels, as `(slug, JSON)`.
pub(super) fn all(inventory: &Inventory) -> Vec<(String, Value)> {
    let boards = [
        ("overview", overview(inventory)),
        ("functions", functions(inventory)),
        ("database", database(inventory)),
        ("tasks", tasks(inventory)),
        ("application", application(inventory)),
        ("slo", objectives(inventory)),
        ("o11y", own(inventory)),
    ];
    boards
        .into_iter()
        .filter(|(_, board)| !board.is_empty())
        .map(|(slug, board)| (slug.to_owned(), board.finish()))
        .collect()
}

fn board(inventory: &Inventory, slug: &str, title: &str, description: &str) -> Board {
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
fn sel(extra: &[&str]) -> String {
    let mut matchers = vec!["job=~\"$job\"", "instance=~\"$instance\""];
    matchers.extend_from_slice(extra);
    matchers.join(",")
}

/// The `job` and `instance` variables, from `series`.
fn job_and_instance(board: &mut Board, series: &str) {
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
fn quantiles(
    histogram: &str,
    selector: &str,
    by: &str,
    legend: &str,
) -> Vec<super::grafana::Target> {
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

fn overview(inventory: &Inventory) -> Board {
    let mut board = board(
        inventory,
        "overview",
        "Overview",
        "HTTP requests by route: rate, errors, latency (django-mixin's Requests Overview as the model)",
    );
    if !inventory.has(HTTP) {
        return board;
    }
    let count = format!("{HTTP}_count");
    job_and_instance(&mut board, &count);
    board.variable(Variable::Label {
        name: "route",
        label: "http_route",
        series: format!("{count}{{job=~\"$job\"}}"),
    });
    board.variable(Variable::Label {
        name: "method",
        label: "http_request_method",
        series: format!("{count}{{job=~\"$job\"}}"),
    });
    let routes = sel(&["http_route=~\"$route\"", "http_request_method=~\"$method\""]);
    let status = |class: &str| {
        sel(&[
            "http_route=~\"$route\"",
            "http_request_method=~\"$method\"",
            &format!("http_response_status_code=~\"{class}\""),
        ])
    };
    board.row("Requests");
    board.panel(panel(
        "Request rate by route",
        "Requests per second, by route",
        "reqps",
        vec![target(
            format!("sum by (http_route) (rate({count}{{{routes}}}[{RATE}]))"),
            "{{http_route}}",
        )],
    ));
    board.panel(panel(
        "Error ratio by route",
        "The share of requests answered 5xx, by route",
        "percentunit",
        vec![target(
            format!(
                "sum by (http_route) (rate({count}{{{}}}[{RATE}])) / sum by (http_route) (rate({count}{{{routes}}}[{RATE}]))",
                status("5..")
            ),
            "{{http_route}}",
        )],
    ));
    board.panel(panel(
        "Responses: 2xx/3xx vs 4xx/5xx",
        "Responses per second by status class",
        "reqps",
        ["2..", "3..", "4..", "5.."]
            .into_iter()
            .map(|class| {
                target(
                    format!("sum(rate({count}{{{}}}[{RATE}]))", status(class)),
                    format!("{}xx", &class[..1]),
                )
            })
            .collect(),
    ));
    board.panel(
        panel(
            "Latency p50/p95/p99 by route",
            "Request duration quantiles by route; the dots are exemplars, each opening the trace of a sampled request",
            "s",
            quantiles(HTTP, &routes, "http_route", "{{http_route}}"),
        )
        .with_exemplars(),
    );
    if inventory.has("http_server_active_requests") {
        board.panel(panel(
            "Requests in progress",
            "Requests being served, by method",
            "short",
            vec![target(
                format!(
                    "sum by (http_request_method) (http_server_active_requests{{{}}})",
                    sel(&["http_request_method=~\"$method\""])
                ),
                "{{http_request_method}}",
            )],
        ));
    }
    board.row("Routes");
    board.panel(
        panel(
            "Slowest routes (p95 over the range)",
            "The ten routes with the highest 95th percentile over the dashboard's time range",
            "s",
            vec![target(
                format!(
                    "topk(10, histogram_quantile(0.95, sum by (http_route, le) (rate({HTTP}_bucket{{{routes}}}[$__range]))))"
                ),
                "{{http_route}}",
            )],
        )
        .kind(Kind::Table, 12),
    );
    board.panel(
        panel(
            "Most failing routes (5xx over the range)",
            "The ten routes with the most 5xx answers over the dashboard's time range",
            "short",
            vec![target(
                format!(
                    "topk(10, sum by (http_route) (increase({count}{{{}}}[$__range])) > 0)",
                    status("5..")
                ),
                "{{http_route}}",
            )],
        )
        .kind(Kind::Table, 12),
    );
    board
}

fn functions(inventory: &Inventory) -> Board {
    let mut board = board(
        inventory,
        "functions",
        "Functions",
        "Calls, errors and latency of each #[observe] function (autometrics' function explorer as the model)",
    );
    if !inventory.has("function_calls_total") {
        return board;
    }
    job_and_instance(&mut board, "function_calls_total");
    for (name, label) in [("module", "module"), ("function", "function")] {
        board.variable(Variable::Label {
            name,
            label,
            series: "function_calls_total{job=~\"$job\"}".to_owned(),
        });
    }
    let functions = sel(&["module=~\"$module\"", "function=~\"$function\""]);
    let errors = sel(&[
        "module=~\"$module\"",
        "function=~\"$function\"",
        "result=\"error\"",
    ]);
    board.panel(panel(
        "Calls by function",
        "Calls per second of each observed function",
        "ops",
        vec![target(
            format!(
                "sum by (module, function) (rate(function_calls_total{{{functions}}}[{RATE}]))"
            ),
            "{{module}}::{{function}}",
        )],
    ));
    board.panel(panel(
        "Error ratio by function",
        "The share of calls that returned an error or panicked",
        "percentunit",
        vec![target(
            format!(
                "sum by (module, function) (rate(function_calls_total{{{errors}}}[{RATE}])) / sum by (module, function) (rate(function_calls_total{{{functions}}}[{RATE}]))"
            ),
            "{{module}}::{{function}}",
        )],
    ));
    if inventory.has("function_calls_duration_seconds") {
        board.panel(
            panel(
                "Latency p50/p95/p99 by function",
                "Call duration quantiles; the dots are exemplars, each opening the trace of a sampled call",
                "s",
                quantiles(
                    "function_calls_duration_seconds",
                    &functions,
                    "module, function",
                    "{{module}}::{{function}}",
                ),
            )
            .with_exemplars(),
        );
    }
    if inventory.has("function_calls_concurrent") {
        board.panel(panel(
            "Calls in progress",
            "Calls in progress of the functions observed with `concurrency`",
            "short",
            vec![target(
                format!("sum by (module, function) (function_calls_concurrent{{{functions}}})"),
                "{{module}}::{{function}}",
            )],
        ));
    }
    board
}

fn database(inventory: &Inventory) -> Board {
    let mut board = board(
        inventory,
        "database",
        "Database",
        "Queries by system and operation, their latency, N+1 detections, migrations",
    );
    let series = [
        "db_client_queries_total",
        "db_client_operation_duration_seconds_count",
        "db_n_plus_one_total",
        "db_migrations_pending",
    ]
    .into_iter()
    .find(|name| inventory.has(name.trim_end_matches("_count")));
    let Some(series) = series else {
        return board;
    };
    job_and_instance(&mut board, series);
    if inventory.has("db_client_queries_total") {
        board.panel(panel(
            "Queries by system and operation",
            "Queries per second",
            "ops",
            vec![target(
                format!("sum by (db_system, db_operation_name) (rate(db_client_queries_total{{{}}}[{RATE}]))", sel(&[])),
                "{{db_system}} {{db_operation_name}}",
            )],
        ));
        board.panel(panel(
            "Query error ratio by operation",
            "The share of queries that failed",
            "percentunit",
            vec![target(
                {
                    // No failed query yet is a ratio of 0, not an empty panel.
                    let all = format!(
                        "sum by (db_system, db_operation_name) (rate(db_client_queries_total{{{}}}[{RATE}]))",
                        sel(&[])
                    );
                    format!(
                        "(sum by (db_system, db_operation_name) (rate(db_client_queries_total{{{}}}[{RATE}])) or 0 * {all}) / {all}",
                        sel(&["result=\"error\""])
                    )
                },
                "{{db_system}} {{db_operation_name}}",
            )],
        ));
    }
    if inventory.has("db_client_operation_duration_seconds") {
        board.panel(
            panel(
                "Query latency p50/p95/p99 by operation",
                "Query duration quantiles; the dots are exemplars, each opening the trace of a sampled query",
                "s",
                quantiles(
                    "db_client_operation_duration_seconds",
                    &sel(&[]),
                    "db_system, db_operation_name",
                    "{{db_system}} {{db_operation_name}}",
                ),
            )
            .with_exemplars(),
        );
    }
    if inventory.has("db_n_plus_one_total") {
        board.panel(panel(
            "N+1 detections by scope",
            "Scopes (functions, routes, tasks) that ran one query per row; the log line n_plus_one_detected names the statement",
            "short",
            vec![target(
                format!("sum by (scope) (increase(db_n_plus_one_total{{{}}}[{RATE}]))", sel(&[])),
                "{{scope}}",
            )],
        ));
    }
    for (metric, title) in [
        ("db_migrations_applied", "Migrations applied"),
        ("db_migrations_pending", "Migrations pending"),
    ] {
        if inventory.has(metric) {
            board.panel(
                panel(
                    title,
                    "By database, as of the last refresh of the migrations",
                    "short",
                    vec![target(
                        format!("sum by (database) ({metric}{{{}}})", sel(&[])),
                        "{{database}}",
                    )],
                )
                .kind(Kind::Stat, 6),
            );
        }
    }
    board
}

fn tasks(inventory: &Inventory) -> Board {
    let mut board = board(
        inventory,
        "tasks",
        "Tasks",
        "Background task runs by outcome, failures, queue wait and runs in progress (celery-mixin's Tasks as the model)",
    );
    let Some(series) = [
        "task_runs_total",
        "task_published_total",
        "task_in_progress",
    ]
    .into_iter()
    .find(|name| inventory.has(name)) else {
        return board;
    };
    job_and_instance(&mut board, series);
    board.variable(Variable::Label {
        name: "task",
        label: "task",
        series: format!("{series}{{job=~\"$job\"}}"),
    });
    let tasks = sel(&["task=~\"$task\""]);
    if inventory.has("task_runs_total") {
        board.panel(panel(
            "Runs by outcome",
            "Task runs per second: succeeded, failed, retried, panicked, cancelled",
            "ops",
            vec![target(
                format!("sum by (task, outcome) (rate(task_runs_total{{{tasks}}}[{RATE}]))"),
                "{{task}} {{outcome}}",
            )],
        ));
        board.panel(panel(
            "Failure rate by task",
            "Failed and panicked runs over finished ones (celery-mixin's failed / (failed + succeeded))",
            "percentunit",
            vec![target(
                format!(
                    "sum by (task) (rate(task_runs_total{{{}}}[{RATE}])) / sum by (task) (rate(task_runs_total{{{}}}[{RATE}]))",
                    sel(&["task=~\"$task\"", "outcome=~\"failed|panicked\""]),
                    sel(&["task=~\"$task\"", "outcome=~\"failed|panicked|succeeded\""])
                ),
                "{{task}}",
            )],
        ));
    }
    if inventory.has("task_queue_wait_seconds") {
        board.panel(
            panel(
                "Queue wait p95 by task",
                "How long tasks waited in the queue before a worker started them",
                "s",
                vec![target(
                    format!("histogram_quantile(0.95, sum by (task, le) (rate(task_queue_wait_seconds_bucket{{{tasks}}}[{RATE}])))"),
                    "{{task}}",
                )],
            )
            .with_exemplars(),
        );
    }
    if inventory.has("task_duration_seconds") {
        board.panel(
            panel(
                "Run duration p50/p95/p99 by task",
                "Task run duration quantiles",
                "s",
                quantiles("task_duration_seconds", &tasks, "task", "{{task}}"),
            )
            .with_exemplars(),
        );
    }
    if inventory.has("task_in_progress") {
        board.panel(panel(
            "Runs in progress",
            "Task runs in progress, by task",
            "short",
            vec![target(
                format!("sum by (task) (task_in_progress{{{tasks}}})"),
                "{{task}}",
            )],
        ));
    }
    if inventory.has("task_published_total") {
        board.panel(panel(
            "Tasks published",
            "Tasks published per second (envelopes created)",
            "ops",
            vec![target(
                format!("sum by (task) (rate(task_published_total{{{tasks}}}[{RATE}]))"),
                "{{task}}",
            )],
        ));
    }
    board
}

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

fn application(inventory: &Inventory) -> Board {
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

fn objectives(inventory: &Inventory) -> Board {
    let mut board = board(
        inventory,
        "slo",
        "Objectives",
        "Service level objectives: error budget left over 30 days, burn rate over the alert windows, error ratio against the objective",
    );
    let slos = slos::slos(inventory);
    if slos.is_empty() {
        return board;
    }
    board.variable(Variable::Label {
        name: "slo",
        label: "slo",
        series: slos::OBJECTIVE.to_owned(),
    });
    let chosen = "slo=~\"$slo\"";
    board.panel(
        panel(
            "Error budget left (30 days)",
            "The share of the 30-day error budget not spent yet; below 0 the objective is missed",
            "percentunit",
            vec![target(
                format!("{}{{{chosen}}}", slos::BUDGET_REMAINING),
                "{{slo}} {{sli}} {{job}}",
            )],
        )
        .kind(Kind::Stat, 24),
    );
    let burn = |window: &str| {
        format!(
            "{}{{{chosen}}} / on (slo, sli) group_left () (1 - {}{{{chosen}}})",
            slos::error_ratio(window),
            slos::OBJECTIVE
        )
    };
    board.panel(panel(
        "Burn rate (page windows: 1h, 6h)",
        "How many times faster than the objective allows the budget burns; a page at 14.4 over 1h (and 5m) or 6 over 6h (and 30m)",
        "short",
        vec![
            target(burn("1h"), "1h {{slo}} {{sli}}"),
            target(burn("6h"), "6h {{slo}} {{sli}}"),
        ],
    ));
    board.panel(panel(
        "Burn rate (ticket windows: 1d, 3d)",
        "A ticket at 3 over 1d (and 2h) or 1 over 3d (and 6h)",
        "short",
        vec![
            target(burn("1d"), "1d {{slo}} {{sli}}"),
            target(burn("3d"), "3d {{slo}} {{sli}}"),
        ],
    ));
    board.panel(panel(
        "Error ratio (5m) and the objective's budget",
        "The share of bad calls over 5 minutes, against 1 - objective",
        "percentunit",
        vec![
            target(
                format!("{}{{{chosen}}}", slos::error_ratio("5m")),
                "{{slo}} {{sli}}",
            ),
            target(
                format!("1 - {}{{{chosen}}}", slos::OBJECTIVE),
                "budget {{slo}} {{sli}}",
            ),
        ],
    ));
    let listed: Vec<String> = slos
        .iter()
        .map(|slo| {
            let what = match slo.sli {
                Sli::Availability => "success",
                Sli::Latency => "latency",
            };
            format!(
                "{} {what} {}%",
                slo.name,
                crate::command::inventory::number(slo.target * 100.0)
            )
        })
        .collect();
    board.panel(
        panel(
            "Objectives",
            format!("Declared objectives: {}", listed.join("; ")),
            "percentunit",
            vec![target(
                format!("{}{{{chosen}}}", slos::OBJECTIVE),
                "{{slo}} {{sli}}",
            )],
        )
        .kind(Kind::Table, 12),
    );
    board
}

fn own(inventory: &Inventory) -> Board {
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
    let spans = present(&[
        ("o11y_spans_exported_total", "exported"),
        (
            "o11y_spans_dropped_total",
            "dropped (queue full or export failed)",
        ),
        ("o11y_span_export_errors_total", "failed export calls"),
    ]);
    if !spans.is_empty() {
        board.panel(panel(
            "Spans",
            "Spans exported and dropped per second, and failed export calls",
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
