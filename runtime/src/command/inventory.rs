//! What the generators (`dashboards`, `rules`, `stack`) know of the
//! program: its metric catalog, the objectives of its observed functions
//! and of its routes (`slo.routes`), and the configuration that shapes the
//! rules (excluded routes, alert thresholds). Dashboards and rules are
//! made only for what is here.

use crate::config::{Config, ConfigError};
use crate::metrics::{self, CatalogEntry};
use crate::observe::FN_SITES;
use crate::slo::{Objective, RouteObjective};

/// An observed function's objective.
#[derive(Debug, Clone)]
pub(super) struct FunctionObjective {
    pub(super) function: &'static str,
    pub(super) module: &'static str,
    pub(super) objective: Objective,
}

/// The program as the generators see it.
#[derive(Debug)]
pub(super) struct Inventory {
    pub(super) service: String,
    /// Sorted by name.
    pub(super) metrics: Vec<CatalogEntry>,
    pub(super) functions: Vec<FunctionObjective>,
    pub(super) routes: Vec<RouteObjective>,
    /// Routes no HTTP alert is about: the paths the server layer leaves
    /// alone and the metrics endpoint.
    pub(super) excluded_routes: Vec<String>,
    pub(super) http_latency_p99: f64,
    pub(super) task_queue_wait_p95: f64,
}

impl Inventory {
    /// From the configuration the program would run with; a configuration
    /// that does not load is reported as `init()` would.
    pub(super) fn gather(config: Result<&Config, &ConfigError>) -> Result<Inventory, String> {
        let config = config.map_err(|error| error.to_string())?;
        metrics::check().map_err(|error| error.to_string())?;
        let mut functions: Vec<FunctionObjective> = FN_SITES
            .iter()
            .filter_map(|site| {
                site.objective().map(|objective| FunctionObjective {
                    function: site.function(),
                    module: site.module,
                    objective: *objective,
                })
            })
            .collect();
        functions.sort_by_key(|f| (f.module, f.function));
        let mut excluded_routes = config.http.exclude_paths.clone();
        if !excluded_routes.contains(&config.metrics.endpoint) {
            excluded_routes.push(config.metrics.endpoint.clone());
        }
        Ok(Inventory {
            service: config.service_name.clone(),
            metrics: metrics::catalog(),
            functions,
            routes: config.slo.routes.clone(),
            excluded_routes,
            http_latency_p99: config.alerts.http_latency_p99.as_secs_f64(),
            task_queue_wait_p95: config.alerts.task_queue_wait_p95.as_secs_f64(),
        })
    }

    /// Whether the catalog lists `name`.
    pub(super) fn has(&self, name: &str) -> bool {
        self.metric(name).is_some()
    }

    pub(super) fn metric(&self, name: &str) -> Option<&CatalogEntry> {
        self.metrics.iter().find(|entry| entry.name == name)
    }

    /// The application's own metrics (`#[metric]`), not o11y's.
    pub(super) fn application_metrics(&self) -> impl Iterator<Item = &CatalogEntry> {
        self.metrics.iter().filter(|entry| !entry.own)
    }

    /// A regex matching the excluded routes, for `http_route!~"…"`.
    pub(super) fn excluded_routes_regex(&self) -> String {
        let escaped: Vec<String> = self
            .excluded_routes
            .iter()
            .map(|route| regex_escape(route))
            .collect();
        escaped.join("|")
    }
}

/// Escapes what a (RE2) regex would read as syntax.
pub(super) fn regex_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// A label value inside a PromQL string literal (`"…"`).
pub(super) fn promql_string(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// A number as PromQL and YAML read it, without float noise
/// (`14.4 * 0.001` is `0.0144`, not `0.014400000000000001`).
pub(super) fn number(value: f64) -> String {
    let rounded = format!("{value:.10}");
    let trimmed = rounded.trim_end_matches('0').trim_end_matches('.');
    if trimmed.is_empty() || trimmed == "-" {
        "0".to_owned()
    } else {
        trimmed.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_lose_their_float_noise() {
        assert_eq!(number(14.4 * (1.0 - 0.999)), "0.0144");
        assert_eq!(number(0.05), "0.05");
        assert_eq!(number(1.0), "1");
        assert_eq!(number(60.0), "60");
    }

    #[test]
    fn routes_and_values_are_escaped_for_promql() {
        assert_eq!(regex_escape("/orders/{id}"), "/orders/\\{id\\}");
        assert_eq!(promql_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
    }
}
