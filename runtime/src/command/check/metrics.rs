//! The `check` section about metrics: the link-time catalog (its size,
//! the registry's own check that `init()` runs, and every metric linted as
//! `promtool check metrics` would, see [`promlint`](super::promlint)), and
//! who may scrape the `/metrics` endpoint.

use crate::config::{Config, Profile};
use crate::metrics;

use super::super::report::Section;
use super::promlint;

/// The catalog: needs no configuration.
pub(super) fn catalog(section: &mut Section) {
    let entries = metrics::catalog();
    if let Err(error) = metrics::check() {
        section.error(format!("init() refuses this catalog: {error}"));
    }
    let mut problems = Vec::new();
    for entry in &entries {
        for problem in promlint::lint(entry.kind, entry.name, entry.help, entry.labels) {
            problems.push((entry, problem));
        }
    }
    let failing = {
        let mut names: Vec<&str> = problems.iter().map(|(entry, _)| entry.name).collect();
        names.dedup();
        names.len()
    };
    section
        .ok(format!(
            "{} metrics in the catalog; {} pass the `promtool check metrics` rules",
            entries.len(),
            entries.len() - failing
        ))
        .with("metrics", entries.len());
    for (entry, problem) in problems {
        section
            .error(format!(
                "metric `{}` ({}, declared at {}): {problem}",
                entry.name, entry.kind, entry.declared_at
            ))
            .with("metric", entry.name)
            .with("problem", problem)
            .with("declared_at", entry.declared_at.as_str());
    }
}

/// Whether metrics are recorded, where they are scraped, and who may scrape.
pub(super) fn access(config: &Config, section: &mut Section) {
    let metrics = &config.metrics;
    if !metrics.enabled {
        section.warning("metrics are off (metrics.enabled = false): nothing is recorded");
    }
    section
        .ok(format!(
            "scraped at GET {} (o11y::http::routes(), or o11y::metrics::serve_configured() on {})",
            metrics.endpoint, metrics.listen
        ))
        .with("endpoint", metrics.endpoint.as_str())
        .with("listen", metrics.listen.to_string());
    let nets: Vec<String> = metrics
        .allow_from
        .iter()
        .map(|net| net.to_string())
        .collect();
    let token = metrics.bearer_token.is_some();
    if token {
        section.ok("a scrape must send the bearer token of metrics.bearer_token (else 401)");
    } else {
        section.ok("no bearer token is asked for (metrics.bearer_token is unset)");
    }
    if !nets.is_empty() {
        section
            .ok(format!(
                "only clients in {} may scrape (others get 403)",
                nets.join(", ")
            ))
            .with("allow_from", nets);
    } else if token || config.profile != Profile::Prod {
        section
            .ok("every client may scrape (metrics.allow_from is empty)")
            .with("allow_from", nets);
    } else {
        section
            .warning(
                "every client that reaches the endpoint may scrape it: in production, set \
                 metrics.allow_from (the scraper's network) or metrics.bearer_token",
            )
            .with("allow_from", nets);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn o11ys_own_metrics_pass_every_rule() {
        let mut section = Section::new("metrics", "Metrics");
        catalog(&mut section);
        let mut text = Vec::new();
        let mut report = super::super::super::report::Report::new("");
        report.push(section);
        report.write_text(&mut text).unwrap();
        let counts = report.counts();
        assert_eq!(
            (counts.warnings, counts.errors),
            (0, 0),
            "{}",
            String::from_utf8_lossy(&text)
        );
    }
}
