//! The `rules` command: a Prometheus rule file (alerting and recording
//! rules) for what the program's catalog holds. Each alert carries a
//! `severity` label and `summary`, `description` and `runbook`
//! annotations; only alerts whose metrics the catalog lists are written.
//!
//! | alert | when | severity |
//! |---|---|---|
//! | `HttpHigh5xxRatio` | more than 5 % of a route's requests answer 5xx over 5m, for 5m (health and metrics routes excluded) | warning |
//! | `HttpHigh4xxRatio` | the same for 4xx | warning |
//! | `HttpHighLatencyP99` | a route's p99 above `alerts.http_latency_p99` for 10m | warning |
//! | `DbNPlusOneDetected` | N+1 detections of a scope increased over 10m | info |
//! | `DbMigrationsPending` | migrations pending for 15m | warning |
//! | `TaskHighFailureRate` | more than 5 % of a task's runs failed over 10m, for 1m | warning |
//! | `TaskHighQueueWait` | a task's p95 queue wait above `alerts.task_queue_wait_p95` for 10m | warning |
//! | `O11ySpansDropped`, `O11yLogsDropped` | o11y dropped spans or log records over 10m | warning |
//! | `O11yMetricSeriesOverflow` | a metric reached its series cap over 10m | warning |
//! | `SloErrorBudgetBurnPage` | an objective's budget burns 14.4× over 1h and 5m, or 6× over 6h and 30m | critical |
//! | `SloErrorBudgetBurnTicket` | 3× over 1d and 2h, or 1× over 3d and 6h | warning |
//!
//! The objectives (see [`slos`](super::slos)) also get recording rules:
//! their error ratio over each window, the objective, and the share of
//! the 30-day error budget left, which the SLO dashboard reads.

use super::args::{Args, Failure};
use super::inventory::{Inventory, number, promql_string};
use super::slos::{self, Slo};
use super::yaml::Yaml;
use super::{Context, Outcome, Output};

pub(super) const USAGE: &str = "\
usage: cargo o11y rules [--example NAME | --bin NAME | -p PACKAGE] [--out FILE]
       O11Y_COMMAND=rules O11Y_COMMAND_ARGS='[--out FILE]' <program>

Writes Prometheus alerting and recording rules for the metrics the program
can emit (its link-time catalog) and its objectives (#[observe(objective(..))],
slo.routes): HTTP 5xx and 4xx ratios and p99 latency per route, N+1
detections, pending migrations, task failures and queue wait, o11y dropping
telemetry, series overflow, and multi-window multi-burn-rate SLO alerts.
Check them with `promtool check rules FILE`.

  --out FILE  write the rules to FILE instead of stdout";

pub(super) fn run(
    args: &mut Args,
    context: &Context<'_>,
    output: &mut Output<'_>,
) -> Result<Outcome, Failure> {
    let file = args.value("--out")?;
    args.finish(&["--out"])?;
    let inventory = match Inventory::gather(context.config) {
        Ok(inventory) => inventory,
        Err(problem) => {
            writeln!(output.err, "o11y rules: {problem}")?;
            return Ok(Outcome::Failed);
        }
    };
    let document = rule_file(&inventory);
    let text = document.yaml.to_text();
    match file {
        None => output.out.write_all(text.as_bytes())?,
        Some(path) => {
            if let Err(error) = std::fs::write(&path, &text) {
                writeln!(output.err, "o11y rules: cannot write {path}: {error}")?;
                return Ok(Outcome::Failed);
            }
            writeln!(
                output.out,
                "{} alerting and {} recording rules written to {path}",
                document.alerts, document.recordings
            )?;
        }
    }
    Ok(Outcome::Passed)
}

/// The rule file and what it holds.
pub(super) struct RuleFile {
    pub(super) yaml: Yaml,
    pub(super) alerts: usize,
    pub(super) recordings: usize,
}

/// One alerting rule.
struct Alert {
    name: &'static str,
    expr: String,
    for_: &'static str,
    severity: &'static str,
    extra_labels: Vec<(&'static str, String)>,
    summary: String,
    description: String,
    runbook: &'static str,
}

impl Alert {
    fn yaml(self) -> Yaml {
        let mut labels = vec![("severity", Yaml::str(self.severity))];
        labels.extend(
            self.extra_labels
                .into_iter()
                .map(|(k, v)| (k, Yaml::Str(v))),
        );
        let mut rule = vec![
            ("alert", Yaml::str(self.name)),
            ("expr", Yaml::Str(self.expr)),
        ];
        if !self.for_.is_empty() {
            rule.push(("for", Yaml::str(self.for_)));
        }
        rule.push(("labels", Yaml::Map(labels)));
        rule.push((
            "annotations",
            Yaml::Map(vec![
                ("summary", Yaml::Str(self.summary)),
                ("description", Yaml::Str(self.description)),
                ("runbook", Yaml::str(self.runbook)),
            ]),
        ));
        Yaml::Map(rule)
    }
}

/// The whole rule file for `inventory`.
pub(super) fn rule_file(inventory: &Inventory) -> RuleFile {
    let service = &inventory.service;
    let mut groups = Vec::new();
    let (mut alert_count, mut recording_count) = (0, 0);
    let mut group = |name: String, rules: Vec<Yaml>, alerts: bool| {
        if rules.is_empty() {
            return;
        }
        if alerts {
            alert_count += rules.len();
        } else {
            recording_count += rules.len();
        }
        groups.push(Yaml::Map(vec![
            ("name", Yaml::Str(name)),
            ("rules", Yaml::List(rules)),
        ]));
    };
    let to_yaml = |alerts: Vec<Alert>| alerts.into_iter().map(Alert::yaml).collect();
    group(
        format!("o11y-{service}-http"),
        to_yaml(http_alerts(inventory)),
        true,
    );
    group(
        format!("o11y-{service}-db"),
        to_yaml(db_alerts(inventory)),
        true,
    );
    group(
        format!("o11y-{service}-tasks"),
        to_yaml(task_alerts(inventory)),
        true,
    );
    group(
        format!("o11y-{service}-self"),
        to_yaml(own_alerts(inventory)),
        true,
    );
    let slos = slos::slos(inventory);
    group(
        format!("o11y-{service}-slo-recordings"),
        slo_recordings(&slos),
        false,
    );
    group(
        format!("o11y-{service}-slo-alerts"),
        to_yaml(slo_alerts(&slos)),
        true,
    );
    RuleFile {
        yaml: Yaml::Map(vec![("groups", Yaml::List(groups))]),
        alerts: alert_count,
        recordings: recording_count,
    }
}

const REQUESTS: &str = "http_server_request_duration_seconds";

fn http_alerts(inventory: &Inventory) -> Vec<Alert> {
    if !inventory.has(REQUESTS) {
        return Vec::new();
    }
    let routes = format!(
        "http_route!~{}",
        promql_string(&inventory.excluded_routes_regex())
    );
    let ratio = |class: &str| {
        let all = format!("sum by (job, http_route) (rate({REQUESTS}_count{{{routes}}}[5m]))");
        format!(
            "sum by (job, http_route) (rate({REQUESTS}_count{{{routes},\
             http_response_status_code=~\"{class}..\"}}[5m])) / {all} > 0.05"
        )
    };
    let threshold = number(inventory.http_latency_p99);
    vec![
        Alert {
            name: "HttpHigh5xxRatio",
            expr: ratio("5"),
            for_: "5m",
            severity: "warning",
            extra_labels: Vec::new(),
            summary: "More than 5 % of the requests to {{ $labels.http_route }} fail with a 5xx status.".to_owned(),
            description: "{{ $value | humanizePercentage }} of the requests to {{ $labels.http_route }} \
                          ({{ $labels.job }}) answered 5xx over the last 5 minutes."
                .to_owned(),
            runbook: "Open the route's failing requests in the traces (error status, `exception` events) \
                      and the error log lines with their trace_id; check the dependencies the route calls \
                      (database, HTTP clients) on the Database and Overview dashboards.",
        },
        Alert {
            name: "HttpHigh4xxRatio",
            expr: ratio("4"),
            for_: "5m",
            severity: "warning",
            extra_labels: Vec::new(),
            summary: "More than 5 % of the requests to {{ $labels.http_route }} are refused with a 4xx status.".to_owned(),
            description: "{{ $value | humanizePercentage }} of the requests to {{ $labels.http_route }} \
                          ({{ $labels.job }}) answered 4xx over the last 5 minutes."
                .to_owned(),
            runbook: "Look at which status codes and clients: a client sending bad requests after a \
                      release, an expired credential (401/403), or links to what no longer exists (404).",
        },
        Alert {
            name: "HttpHighLatencyP99",
            expr: format!(
                "histogram_quantile(0.99, sum by (job, http_route, le) \
                 (rate({REQUESTS}_bucket{{{routes}}}[5m]))) > {threshold}"
            ),
            for_: "10m",
            severity: "warning",
            extra_labels: Vec::new(),
            summary: format!(
                "The p99 latency of {{{{ $labels.http_route }}}} is above {threshold}s."
            ),
            description: "The 99th percentile of {{ $labels.http_route }} ({{ $labels.job }}) has been \
                          {{ $value | humanizeDuration }} for 10 minutes."
                .to_owned(),
            runbook: "Follow the exemplars of the latency panel to slow traces; look for N+1 queries, \
                      slow queries by operation and saturated task queues. The threshold is \
                      alerts.http_latency_p99.",
        },
    ]
}

fn db_alerts(inventory: &Inventory) -> Vec<Alert> {
    let mut alerts = Vec::new();
    if inventory.has("db_n_plus_one_total") {
        alerts.push(Alert {
            name: "DbNPlusOneDetected",
            expr: "sum by (job, scope) (increase(db_n_plus_one_total[10m])) > 0".to_owned(),
            for_: "",
            severity: "info",
            extra_labels: Vec::new(),
            summary: "{{ $labels.scope }} ran N+1 queries.".to_owned(),
            description: "{{ $labels.scope }} ({{ $labels.job }}) repeated one statement per row \
                          {{ $value }} times over the last 10 minutes."
                .to_owned(),
            runbook: "Find the n_plus_one_detected warning in the logs: it names the scope, the \
                      statement's fingerprint and the source location; load the rows in one query \
                      (a join or an IN list) instead.",
        });
    }
    if inventory.has("db_migrations_pending") {
        alerts.push(Alert {
            name: "DbMigrationsPending",
            expr: "db_migrations_pending > 0".to_owned(),
            for_: "15m",
            severity: "warning",
            extra_labels: Vec::new(),
            summary: "{{ $labels.database }} has migrations that are not applied.".to_owned(),
            description: "{{ $value }} migrations of {{ $labels.database }} ({{ $labels.job }}) \
                          have been pending for 15 minutes."
                .to_owned(),
            runbook: "Run the pending migrations, or find why the deployment's migration step \
                      failed; code expecting the new schema may fail until then.",
        });
    }
    alerts
}

fn task_alerts(inventory: &Inventory) -> Vec<Alert> {
    let mut alerts = Vec::new();
    if inventory.has("task_runs_total") {
        let runs = |outcomes: &str| {
            format!("sum by (job, task) (rate(task_runs_total{{outcome=~\"{outcomes}\"}}[10m]))")
        };
        alerts.push(Alert {
            name: "TaskHighFailureRate",
            expr: format!(
                "{} / {} > 0.05",
                runs("failed|panicked"),
                runs("failed|panicked|succeeded")
            ),
            for_: "1m",
            severity: "warning",
            extra_labels: Vec::new(),
            summary: "More than 5 % of the runs of task {{ $labels.task }} fail.".to_owned(),
            description: "{{ $value | humanizePercentage }} of the runs of {{ $labels.task }} \
                          ({{ $labels.job }}) failed or panicked over the last 10 minutes."
                .to_owned(),
            runbook: "Open the failed runs' CONSUMER spans (error status, exception events) and \
                      their log lines; the trace continues the request that published the task.",
        });
    }
    if inventory.has("task_queue_wait_seconds") {
        let threshold = number(inventory.task_queue_wait_p95);
        alerts.push(Alert {
            name: "TaskHighQueueWait",
            expr: format!(
                "histogram_quantile(0.95, sum by (job, task, le) \
                 (rate(task_queue_wait_seconds_bucket[10m]))) > {threshold}"
            ),
            for_: "10m",
            severity: "warning",
            extra_labels: Vec::new(),
            summary: format!(
                "Task {{{{ $labels.task }}}} waits more than {threshold}s in its queue."
            ),
            description: "The 95th percentile of the queue wait of {{ $labels.task }} \
                          ({{ $labels.job }}) has been {{ $value | humanizeDuration }} for 10 minutes."
                .to_owned(),
            runbook: "The workers do not keep up: check that they run (task_in_progress), how long \
                      runs take (task_duration_seconds), and add workers or concurrency. The \
                      threshold is alerts.task_queue_wait_p95.",
        });
    }
    alerts
}

fn own_alerts(inventory: &Inventory) -> Vec<Alert> {
    let mut alerts = Vec::new();
    for (name, metric, what) in [
        ("O11ySpansDropped", "o11y_spans_dropped_total", "spans"),
        ("O11yLogsDropped", "o11y_logs_dropped_total", "log records"),
    ] {
        if inventory.has(metric) {
            alerts.push(Alert {
                name,
                expr: format!("sum by (job, instance) (increase({metric}[10m])) > 0"),
                for_: "",
                severity: "warning",
                extra_labels: Vec::new(),
                summary: format!("o11y dropped {what} of {{{{ $labels.instance }}}}."),
                description: format!(
                    "{{{{ $value }}}} {what} of {{{{ $labels.instance }}}} ({{{{ $labels.job }}}}) \
                     were dropped over the last 10 minutes: the export queue was full or the \
                     collector refused them."
                ),
                runbook: "Check the collector is reachable (`cargo o11y check`) and the export \
                          errors on the o11y dashboard; a full queue under load needs a faster \
                          collector or a lower tracing.sample_rate.",
            });
        }
    }
    if inventory.has("o11y_metric_series_overflow_total") {
        alerts.push(Alert {
            name: "O11yMetricSeriesOverflow",
            expr: "sum by (job, metric) (increase(o11y_metric_series_overflow_total[10m])) > 0"
                .to_owned(),
            for_: "",
            severity: "warning",
            extra_labels: Vec::new(),
            summary: "{{ $labels.metric }} reached its series cap.".to_owned(),
            description:
                "{{ $value }} recordings of {{ $labels.metric }} ({{ $labels.job }}) went \
                          to its overflow series over the last 10 minutes: a label takes unbounded \
                          values."
                    .to_owned(),
            runbook: "Find the label whose values grow without bound (an id, a raw path) and \
                      replace it with a bounded one; metrics.series_cap sets the cap.",
        });
    }
    alerts
}

/// The error ratio of each objective over each window, the 30-day
/// average, the objective and the budget left.
fn slo_recordings(slos: &[Slo]) -> Vec<Yaml> {
    let mut rules = Vec::new();
    for slo in slos {
        let labels = || {
            Yaml::Map(vec![
                ("slo", Yaml::str(slo.name.clone())),
                ("sli", Yaml::str(slo.sli.as_str())),
            ])
        };
        for window in slos::WINDOWS {
            rules.push(Yaml::Map(vec![
                ("record", Yaml::Str(slos::error_ratio(window))),
                ("expr", Yaml::Str(slo.error_ratio_expr(window))),
                ("labels", labels()),
            ]));
        }
        let matchers = slo.matchers();
        rules.push(Yaml::Map(vec![
            ("record", Yaml::Str(slos::error_ratio(slos::PERIOD))),
            (
                "expr",
                Yaml::Str(format!(
                    "avg_over_time({}{{{matchers}}}[{}])",
                    slos::error_ratio("5m"),
                    slos::PERIOD
                )),
            ),
            ("labels", labels()),
        ]));
        rules.push(Yaml::Map(vec![
            ("record", Yaml::str(slos::OBJECTIVE)),
            ("expr", Yaml::Str(format!("vector({})", number(slo.target)))),
            ("labels", labels()),
        ]));
        rules.push(Yaml::Map(vec![
            ("record", Yaml::str(slos::BUDGET_REMAINING)),
            (
                "expr",
                Yaml::Str(format!(
                    "1 - {}{{{matchers}}} / {}",
                    slos::error_ratio(slos::PERIOD),
                    number(slo.budget())
                )),
            ),
            ("labels", labels()),
        ]));
    }
    rules
}

fn slo_alerts(slos: &[Slo]) -> Vec<Alert> {
    let mut alerts = Vec::new();
    for slo in slos {
        let labels = vec![
            ("slo", slo.name.clone()),
            ("sli", slo.sli.as_str().to_owned()),
        ];
        let objective = number(slo.target * 100.0);
        alerts.push(Alert {
            name: "SloErrorBudgetBurnPage",
            expr: slos::burn_expr(slo, &slos::PAGE),
            for_: "2m",
            severity: "critical",
            extra_labels: labels.clone(),
            summary: format!(
                "{} burns its {} error budget fast ({objective} % objective).",
                slo.name,
                slo.sli.as_str()
            ),
            description: format!(
                "The {} of {} ({{{{ $labels.job }}}}) burns its 30-day error budget 14.4 times \
                 too fast over 1h and 5m, or 6 times over 6h and 30m: at this rate the budget \
                 is gone within days. What counts as an error: {}.",
                slo.sli.as_str(),
                slo.name,
                slo.says
            ),
            runbook: "Page: find what changed (a release, a dependency) on the SLO and Overview \
                      dashboards and the failing or slow traces; roll back or mitigate first.",
        });
        alerts.push(Alert {
            name: "SloErrorBudgetBurnTicket",
            expr: slos::burn_expr(slo, &slos::TICKET),
            for_: "15m",
            severity: "warning",
            extra_labels: labels,
            summary: format!(
                "{} burns its {} error budget ({objective} % objective).",
                slo.name,
                slo.sli.as_str()
            ),
            description: format!(
                "The {} of {} ({{{{ $labels.job }}}}) burns its 30-day error budget 3 times too \
                 fast over 1d and 2h, or faster than it lasts over 3d and 6h. What counts as an \
                 error: {}.",
                slo.sli.as_str(),
                slo.name,
                slo.says
            ),
            runbook: "Ticket: plan the fix within days; the SLO dashboard shows the budget left \
                      and the burn rate over each window.",
        });
    }
    alerts
}
