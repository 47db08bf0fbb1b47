//! The HTTP overview (django-mixin's Requests Overview as the model) and
//! the functions explorer (autometrics' as the model).

use super::{HTTP, RATE, board, job_and_instance, quantiles, sel};
use crate::command::dashboards::grafana::{Board, Kind, Variable, panel, target};
use crate::command::inventory::Inventory;

pub(super) fn overview(inventory: &Inventory) -> Board {
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

pub(super) fn functions(inventory: &Inventory) -> Board {
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
