//! The service level objectives of the program as the rules and the SLO
//! dashboard use them: one per objective part (availability or latency)
//! of each observed function and each route of `slo.routes`, with its
//! error-ratio expression over any window, the names of the recording
//! rules that keep it, and the multi-window, multi-burn-rate alerts of the
//! Google SRE workbook (as sloth and pyrra generate them) for a 30-day
//! objective.

use super::inventory::{Inventory, number, promql_string};
use crate::config::ROUTE_DURATION_METRIC;

/// The windows an error ratio is recorded over; 30 days is averaged from 5m.
pub(super) const WINDOWS: [&str; 7] = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"];
/// The objective's window.
pub(super) const PERIOD: &str = "30d";

/// Recording rule of the error ratio over `window`: `o11y:slo_error:ratio_rate5m`.
pub(super) fn error_ratio(window: &str) -> String {
    format!("o11y:slo_error:ratio_rate{window}")
}
/// Recording rule of the objective (as a ratio, `0.999`).
pub(super) const OBJECTIVE: &str = "o11y:slo_objective:ratio";
/// Recording rule of the share of the 30-day error budget left (1: all of it).
pub(super) const BUDGET_REMAINING: &str = "o11y:slo_error_budget_remaining:ratio";

/// One burn-rate alert: both windows above `factor` × the error budget.
pub(super) struct BurnRate {
    pub(super) long: &'static str,
    pub(super) short: &'static str,
    pub(super) factor: f64,
}

/// A page when 2 % of the budget burns in an hour or 5 % in six hours.
pub(super) const PAGE: [BurnRate; 2] = [
    BurnRate {
        long: "1h",
        short: "5m",
        factor: 14.4,
    },
    BurnRate {
        long: "6h",
        short: "30m",
        factor: 6.0,
    },
];
/// A ticket when 10 % burns in a day or 10 % in three days.
pub(super) const TICKET: [BurnRate; 2] = [
    BurnRate {
        long: "1d",
        short: "2h",
        factor: 3.0,
    },
    BurnRate {
        long: "3d",
        short: "6h",
        factor: 1.0,
    },
];

/// What the objective measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sli {
    /// Calls that fail (functions) or answer 5xx (routes).
    Availability,
    /// Calls slower than the threshold.
    Latency,
}

impl Sli {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Sli::Availability => "availability",
            Sli::Latency => "latency",
        }
    }
}

/// One objective part.
#[derive(Debug, Clone)]
pub(super) struct Slo {
    /// `o11y_examples::api::get_order` or `GET /orders/{id}`.
    pub(super) name: String,
    pub(super) sli: Sli,
    /// The objective as a ratio: `0.999`.
    pub(super) target: f64,
    /// What the SLI counts, for descriptions.
    pub(super) says: String,
    /// The selector of the calls (`function="…",module="…"`).
    selector: String,
    /// Counter of calls (`function_calls_total`) or the histogram's `_count`.
    total: String,
    /// The selector of bad calls added to `selector`, for availability.
    bad: String,
    /// For latency: the histogram (without `_bucket`) and the `le` matcher.
    histogram: String,
    le: String,
}

impl Slo {
    /// The error budget: `1 - target`.
    pub(super) fn budget(&self) -> f64 {
        1.0 - self.target
    }

    /// `slo="…",sli="…"`: the labels of its recording rules.
    pub(super) fn matchers(&self) -> String {
        format!(
            "slo={},sli=\"{}\"",
            promql_string(&self.name),
            self.sli.as_str()
        )
    }

    /// The error ratio over `window`, per job. A window with calls but no
    /// bad ones is 0 (not an empty result, as a missing series would give).
    pub(super) fn error_ratio_expr(&self, window: &str) -> String {
        let total = format!(
            "sum by (job) (rate({}{{{}}}[{window}]))",
            self.total, self.selector
        );
        match self.sli {
            Sli::Availability => format!(
                "(sum by (job) (rate({}{{{},{}}}[{window}])) or 0 * {total}) / {total}",
                self.total, self.selector, self.bad
            ),
            Sli::Latency => format!(
                "1 - sum by (job) (rate({}_bucket{{{},{}}}[{window}])) / {total}",
                self.histogram, self.selector, self.le
            ),
        }
    }
}

/// `le="0.25"`; whole bounds as both spellings, `le=~"1|1.0"` (o11y writes
/// `1.0` in OpenMetrics, other exporters `1`).
fn le_matcher(bound: f64) -> String {
    if bound.fract() == 0.0 {
        format!("le=~\"{bound}|{bound}.0\"")
    } else {
        format!("le=\"{bound}\"")
    }
}

/// Every objective part of the program, functions first.
pub(super) fn slos(inventory: &Inventory) -> Vec<Slo> {
    let mut slos = Vec::new();
    if inventory.has("function_calls_total") {
        for function in &inventory.functions {
            let name = format!("{}::{}", function.module, function.function);
            let selector = format!(
                "function={},module={}",
                promql_string(function.function),
                promql_string(function.module)
            );
            if let Some(success) = function.objective.success {
                slos.push(Slo {
                    says: format!("calls of {name} that fail"),
                    name: name.clone(),
                    sli: Sli::Availability,
                    target: success / 100.0,
                    selector: selector.clone(),
                    total: "function_calls_total".to_owned(),
                    bad: "result=\"error\"".to_owned(),
                    histogram: String::new(),
                    le: String::new(),
                });
            }
            if let Some(latency) = function.objective.latency {
                slos.push(Slo {
                    says: format!(
                        "calls of {name} slower than {}",
                        o11y_naming::objective::format_seconds(latency.threshold_seconds)
                    ),
                    name,
                    sli: Sli::Latency,
                    target: latency.percent / 100.0,
                    selector,
                    total: "function_calls_duration_seconds_count".to_owned(),
                    bad: String::new(),
                    histogram: "function_calls_duration_seconds".to_owned(),
                    le: le_matcher(latency.threshold_seconds),
                });
            }
        }
    }
    if inventory.has(ROUTE_DURATION_METRIC) {
        for route in &inventory.routes {
            let name = match &route.method {
                Some(method) => format!("{method} {}", route.route),
                None => route.route.clone(),
            };
            let mut selector = format!("http_route={}", promql_string(&route.route));
            if let Some(method) = &route.method {
                selector.push_str(&format!(",http_request_method={}", promql_string(method)));
            }
            let count = format!("{ROUTE_DURATION_METRIC}_count");
            if let Some(success) = route.objective.success {
                slos.push(Slo {
                    says: format!("requests to {name} answered with a 5xx status"),
                    name: name.clone(),
                    sli: Sli::Availability,
                    target: success / 100.0,
                    selector: selector.clone(),
                    total: count.clone(),
                    bad: "http_response_status_code=~\"5..\"".to_owned(),
                    histogram: String::new(),
                    le: String::new(),
                });
            }
            if let Some(latency) = route.objective.latency {
                slos.push(Slo {
                    says: format!(
                        "requests to {name} slower than {}",
                        o11y_naming::objective::format_seconds(latency.threshold_seconds)
                    ),
                    name,
                    sli: Sli::Latency,
                    target: latency.percent / 100.0,
                    selector,
                    total: count.clone(),
                    bad: String::new(),
                    histogram: ROUTE_DURATION_METRIC.to_owned(),
                    le: le_matcher(latency.threshold_seconds),
                });
            }
        }
    }
    slos
}

/// The burn-rate alert condition of `pairs` for `slo`, on its recordings.
pub(super) fn burn_expr(slo: &Slo, pairs: &[BurnRate]) -> String {
    let matchers = slo.matchers();
    let conditions: Vec<String> = pairs
        .iter()
        .map(|pair| {
            let threshold = number(pair.factor * slo.budget());
            format!(
                "({long}{{{matchers}}} > {threshold} and {short}{{{matchers}}} > {threshold})",
                long = error_ratio(pair.long),
                short = error_ratio(pair.short),
            )
        })
        .collect();
    conditions.join(" or ")
}
