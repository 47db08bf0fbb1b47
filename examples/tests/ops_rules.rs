//! The rule file `O11Y_COMMAND=rules` writes for the quickstart (its
//! `get_order` objective, a route objective in `O11Y_SLO_ROUTES`) passes
//! `promtool check rules`, and `promtool test rules` runs every generated
//! alert on synthetic series: for each alert, the exact set of series that
//! fire at the evaluation time, so the series beside them that must not
//! fire (a lower ratio, an excluded route, a constant counter, a slow burn
//! that only warrants a ticket) are checked too. And the stack
//! `O11Y_COMMAND=stack` writes passes `promtool check config` and
//! `docker-compose config`.

mod ops;

use std::fmt::Write as _;
use std::process::Command;

/// One alert's case: what fires (its labels besides `alertname`,
/// `alertstate` and `job`) and the series that must not.
struct Case {
    alert: &'static str,
    /// Label sets (`severity="warning",http_route="/orders"`) of the series that fire.
    firing: Vec<String>,
    /// Input series that must not fire, with their values.
    quiet: Vec<(String, &'static str)>,
    /// Input series that fire.
    loud: Vec<(String, &'static str)>,
}

const JOB: &str = "job=\"quickstart\"";

fn series(name: &str, labels: &str) -> String {
    format!("{name}{{{JOB},{labels}}}")
}

fn http_count(route: &str, status: &str) -> String {
    series(
        "http_server_request_duration_seconds_count",
        &format!(
            "http_route=\"{route}\",http_request_method=\"GET\",http_response_status_code=\"{status}\""
        ),
    )
}

fn http_bucket(route: &str, status: &str, le: &str) -> String {
    series(
        "http_server_request_duration_seconds_bucket",
        &format!(
            "http_route=\"{route}\",http_request_method=\"GET\",http_response_status_code=\"{status}\",le=\"{le}\""
        ),
    )
}

const GET_ORDER: &str = "function=\"get_order\",module=\"o11y_examples::api\"";

fn cases() -> Vec<Case> {
    let slo = |name: &str, sli: &str, severity: &str| {
        format!("severity=\"{severity}\",slo=\"{name}\",sli=\"{sli}\"")
    };
    vec![
        Case {
            alert: "HttpHigh5xxRatio",
            // /orders: 10 % 5xx; /orders/fast: 1 %; /health: all 5xx, but excluded.
            firing: vec!["severity=\"warning\",http_route=\"/orders\"".to_owned()],
            loud: vec![
                (http_count("/orders", "500"), "0+10x40"),
                (http_count("/orders", "200"), "0+90x40"),
            ],
            quiet: vec![
                (http_count("/orders/fast", "500"), "0+1x40"),
                (http_count("/orders/fast", "200"), "0+99x40"),
                (http_count("/health", "503"), "0+50x40"),
            ],
        },
        Case {
            alert: "HttpHigh4xxRatio",
            // /orders/{id}: 20 % 404; the other routes answer no 4xx.
            firing: vec!["severity=\"warning\",http_route=\"/orders/{id}\"".to_owned()],
            loud: vec![
                (http_count("/orders/{id}", "404"), "0+20x40"),
                (http_count("/orders/{id}", "200"), "0+80x40"),
            ],
            quiet: vec![(http_count("/orders/fast", "200"), "0+99x40")],
        },
        Case {
            alert: "HttpHighLatencyP99",
            // /slow: every request between 1 s and 2.5 s; /orders: all under 0.5 s.
            firing: vec!["severity=\"warning\",http_route=\"/slow\"".to_owned()],
            loud: vec![
                (http_bucket("/slow", "200", "0.5"), "0+0x40"),
                (http_bucket("/slow", "200", "1.0"), "0+0x40"),
                (http_bucket("/slow", "200", "2.5"), "0+10x40"),
                (http_bucket("/slow", "200", "+Inf"), "0+10x40"),
            ],
            quiet: vec![
                (http_bucket("/orders", "200", "0.5"), "0+90x40"),
                (http_bucket("/orders", "500", "0.5"), "0+10x40"),
                (http_bucket("/orders", "200", "+Inf"), "0+90x40"),
                (http_bucket("/orders", "500", "+Inf"), "0+10x40"),
            ],
        },
        Case {
            alert: "DbNPlusOneDetected",
            firing: vec!["severity=\"info\",scope=\"list_orders\"".to_owned()],
            loud: vec![(
                series("db_n_plus_one_total", "scope=\"list_orders\""),
                "0+1x40",
            )],
            quiet: vec![(series("db_n_plus_one_total", "scope=\"settled\""), "5+0x40")],
        },
        Case {
            alert: "DbMigrationsPending",
            // Pending for 10 minutes only: under the 15 of `for`.
            firing: vec!["severity=\"warning\",database=\"quickstart\"".to_owned()],
            loud: vec![(
                series("db_migrations_pending", "database=\"quickstart\""),
                "1+0x40",
            )],
            quiet: vec![
                (
                    series("db_migrations_pending", "database=\"applied\""),
                    "0+0x40",
                ),
                (
                    series("db_migrations_pending", "database=\"brief\""),
                    "1+0x9 0+0x30",
                ),
            ],
        },
        Case {
            alert: "TaskHighFailureRate",
            firing: vec!["severity=\"warning\",task=\"confirm_order\"".to_owned()],
            loud: vec![
                (
                    series(
                        "task_runs_total",
                        "task=\"confirm_order\",outcome=\"failed\"",
                    ),
                    "0+1x40",
                ),
                (
                    series(
                        "task_runs_total",
                        "task=\"confirm_order\",outcome=\"succeeded\"",
                    ),
                    "0+9x40",
                ),
            ],
            quiet: vec![
                (
                    series("task_runs_total", "task=\"send_mail\",outcome=\"failed\""),
                    "0+0x40",
                ),
                (
                    series("task_runs_total", "task=\"send_mail\",outcome=\"retried\""),
                    "0+5x40",
                ),
                (
                    series(
                        "task_runs_total",
                        "task=\"send_mail\",outcome=\"succeeded\"",
                    ),
                    "0+9x40",
                ),
            ],
        },
        Case {
            alert: "TaskHighQueueWait",
            // confirm_order waits 5 to 7.5 s (p95 about 7.4 s, over the 5 s default).
            firing: vec!["severity=\"warning\",task=\"confirm_order\"".to_owned()],
            loud: vec![
                (
                    series(
                        "task_queue_wait_seconds_bucket",
                        "task=\"confirm_order\",le=\"5.0\"",
                    ),
                    "0+0x40",
                ),
                (
                    series(
                        "task_queue_wait_seconds_bucket",
                        "task=\"confirm_order\",le=\"7.5\"",
                    ),
                    "0+10x40",
                ),
                (
                    series(
                        "task_queue_wait_seconds_bucket",
                        "task=\"confirm_order\",le=\"+Inf\"",
                    ),
                    "0+10x40",
                ),
            ],
            quiet: vec![
                (
                    series(
                        "task_queue_wait_seconds_bucket",
                        "task=\"send_mail\",le=\"0.1\"",
                    ),
                    "0+10x40",
                ),
                (
                    series(
                        "task_queue_wait_seconds_bucket",
                        "task=\"send_mail\",le=\"+Inf\"",
                    ),
                    "0+10x40",
                ),
            ],
        },
        Case {
            alert: "O11ySpansDropped",
            firing: vec!["severity=\"warning\",instance=\"10.0.0.1:3000\"".to_owned()],
            loud: vec![(
                series("o11y_spans_dropped_total", "instance=\"10.0.0.1:3000\""),
                "0+5x40",
            )],
            quiet: vec![(
                series("o11y_spans_dropped_total", "instance=\"10.0.0.2:3000\""),
                "3+0x40",
            )],
        },
        Case {
            alert: "O11yLogsDropped",
            firing: vec!["severity=\"warning\",instance=\"10.0.0.1:3000\"".to_owned()],
            loud: vec![(
                series("o11y_logs_dropped_total", "instance=\"10.0.0.1:3000\""),
                "0+5x40",
            )],
            quiet: vec![(
                series("o11y_logs_dropped_total", "instance=\"10.0.0.2:3000\""),
                "0+0x40",
            )],
        },
        Case {
            alert: "O11yMetricSeriesOverflow",
            firing: vec!["severity=\"warning\",metric=\"orders_total\"".to_owned()],
            loud: vec![(
                series(
                    "o11y_metric_series_overflow_total",
                    "metric=\"orders_total\"",
                ),
                "0+1x40",
            )],
            quiet: vec![(
                series(
                    "o11y_metric_series_overflow_total",
                    "metric=\"capped_once\"",
                ),
                "2+0x40",
            )],
        },
        Case {
            alert: "SloErrorBudgetBurnPage",
            // get_order fails 2 % of calls: 20 times its 0.1 % budget, a page.
            // GET /orders answers 10 % 5xx (the series of HttpHigh5xxRatio):
            // 10 times its 1 % budget, over the 6x of the 6h/30m pair.
            // get_order's latency burns 2x its budget: a ticket, no page.
            firing: vec![
                slo("o11y_examples::api::get_order", "availability", "critical"),
                slo("GET /orders", "availability", "critical"),
            ],
            loud: vec![
                (
                    series(
                        "function_calls_total",
                        &format!("{GET_ORDER},result=\"error\""),
                    ),
                    "0+2x40",
                ),
                (
                    series(
                        "function_calls_total",
                        &format!("{GET_ORDER},result=\"ok\""),
                    ),
                    "0+98x40",
                ),
            ],
            quiet: vec![
                (
                    series(
                        "function_calls_duration_seconds_bucket",
                        &format!("{GET_ORDER},le=\"0.25\""),
                    ),
                    "0+98x40",
                ),
                (
                    series("function_calls_duration_seconds_count", GET_ORDER),
                    "0+100x40",
                ),
            ],
        },
        Case {
            alert: "SloErrorBudgetBurnTicket",
            // GET /orders' latency: every request under 500 ms (the buckets of
            // HttpHighLatencyP99's quiet series), so no alert.
            firing: vec![
                slo("o11y_examples::api::get_order", "availability", "warning"),
                slo("o11y_examples::api::get_order", "latency", "warning"),
                slo("GET /orders", "availability", "warning"),
            ],
            loud: Vec::new(),
            quiet: Vec::new(),
        },
    ]
}

/// The names of the alerts in a rule file as `rules` writes it.
fn alert_names(rules: &str) -> Vec<String> {
    let mut names: Vec<String> = rules
        .lines()
        .filter_map(|line| line.trim().strip_prefix("- alert: "))
        .map(|name| name.trim_matches('"').to_owned())
        .collect();
    names.dedup();
    names
}

/// A promtool unit test file: every case's series, and per alert the
/// exact set of `ALERTS` series firing after 30 minutes.
fn unit_tests(cases: &[Case]) -> String {
    let mut text = String::from(
        "rule_files: [rules.yml]\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n",
    );
    for (name, values) in cases.iter().flat_map(|c| c.loud.iter().chain(&c.quiet)) {
        writeln!(text, "      - series: '{name}'\n        values: '{values}'").unwrap();
    }
    text.push_str("    promql_expr_test:\n");
    for case in cases {
        let alert = case.alert;
        writeln!(
            text,
            "      - expr: 'ALERTS{{alertname=\"{alert}\",alertstate=\"firing\"}}'\n        eval_time: 30m\n        exp_samples:"
        )
        .unwrap();
        for labels in &case.firing {
            writeln!(
                text,
                "          - labels: 'ALERTS{{alertname=\"{alert}\",alertstate=\"firing\",{JOB},{labels}}}'\n            value: 1"
            )
            .unwrap();
        }
    }
    text
}

#[test]
fn the_generated_rules_pass_promtool_check_and_every_alert_fires_only_when_it_must() {
    let Some(promtool) = ops::tool("promtool", "prometheus") else {
        return;
    };
    let dir = ops::scratch("ops-rules");
    let rules = dir.join("rules.yml");
    let said = ops::run_command("rules", &format!("--out {}", rules.display()), &dir);
    assert!(
        said.ends_with(&format!("written to {}\n", rules.display())),
        "{said}"
    );

    let checked = Command::new(&promtool)
        .arg("check")
        .arg("rules")
        .arg(&rules)
        .output()
        .unwrap();
    ops::assert_success("promtool check rules", &checked);
    let text = std::fs::read_to_string(&rules).unwrap();

    let cases = cases();
    let generated = alert_names(&text);
    let tested: Vec<&str> = cases.iter().map(|c| c.alert).collect();
    for alert in &generated {
        assert!(
            tested.contains(&alert.as_str()),
            "no unit test for the generated alert {alert}"
        );
    }
    for alert in &tested {
        assert!(
            generated.iter().any(|g| g == alert),
            "{alert} is not generated:\n{text}"
        );
    }
    for case in &cases {
        assert!(!case.firing.is_empty(), "{}: nothing fires", case.alert);
    }
    let quiet: usize = cases.iter().map(|c| c.quiet.len()).sum();
    assert!(
        quiet >= cases.len() - 1,
        "each alert has series that must not fire"
    );

    std::fs::write(dir.join("tests.yml"), unit_tests(&cases)).unwrap();
    let tested = Command::new(&promtool)
        .current_dir(&dir)
        .args(["test", "rules", "tests.yml"])
        .output()
        .unwrap();
    ops::assert_success("promtool test rules", &tested);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_stack_passes_promtool_check_config_and_docker_compose_config() {
    let Some(promtool) = ops::tool("promtool", "prometheus") else {
        return;
    };
    let Some(compose) = ops::tool("docker-compose", "docker-compose") else {
        return;
    };
    let dir = ops::scratch("ops-stack");
    let stack = dir.join("stack");
    let said = ops::run_command(
        "stack",
        &format!("--out {} --app app.internal:3000", stack.display()),
        &dir,
    );
    assert!(
        said.starts_with(&format!("stack written to {}", stack.display())),
        "{said}"
    );
    for file in [
        "docker-compose.yml",
        "prometheus/prometheus.yml",
        "prometheus/o11y-rules.yml",
        "grafana/provisioning/datasources/o11y.yml",
        "grafana/provisioning/dashboards/o11y.yml",
        "grafana/dashboards/o11y-overview.json",
        "grafana/dashboards/o11y-slo.json",
        "tempo/tempo.yml",
        "loki/loki.yml",
        "otel-collector/config.yml",
    ] {
        assert!(stack.join(file).is_file(), "{file} is missing");
    }
    let prometheus = std::fs::read_to_string(stack.join("prometheus/prometheus.yml")).unwrap();
    assert!(
        prometheus.contains("targets: [\"app.internal:3000\"]"),
        "{prometheus}"
    );
    let overview =
        std::fs::read_to_string(stack.join("grafana/dashboards/o11y-overview.json")).unwrap();
    assert!(
        !overview.contains("${DS_PROMETHEUS}"),
        "provisioned dashboards name the datasource"
    );

    let checked = Command::new(&promtool)
        .args(["check", "config"])
        .arg(stack.join("prometheus/prometheus.yml"))
        .output()
        .unwrap();
    ops::assert_success("promtool check config", &checked);
    let stdout = String::from_utf8_lossy(&checked.stdout);
    assert!(stdout.contains("SUCCESS: 1 rule files found"), "{stdout}");

    let config = Command::new(&compose)
        .arg("--file")
        .arg(stack.join("docker-compose.yml"))
        .args(["config", "--services"])
        .output()
        .unwrap();
    ops::assert_success("docker-compose config", &config);
    let mut services: Vec<String> = String::from_utf8_lossy(&config.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    services.sort();
    assert_eq!(
        services,
        [
            "grafana",
            "loki",
            "otel-collector",
            "prometheus",
            "pyroscope",
            "tempo"
        ]
    );
    let _ = std::fs::remove_dir_all(&dir);
}
