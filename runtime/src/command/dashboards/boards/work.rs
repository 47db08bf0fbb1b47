//! What the program does besides answering: its database queries (N+1
//! detections, migrations) and its background tasks (celery-mixin's Tasks
//! as the model).

use super::{RATE, board, job_and_instance, quantiles, sel};
use crate::command::dashboards::grafana::{Board, Kind, Variable, panel, target};
use crate::command::inventory::Inventory;

pub(super) fn database(inventory: &Inventory) -> Board {
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

pub(super) fn tasks(inventory: &Inventory) -> Board {
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
