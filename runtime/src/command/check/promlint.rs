//! The rules of `promtool check metrics`: Prometheus' promlint
//! (`prometheus/testutil/promlint/validations` in client_golang), applied
//! to a metric's declaration instead of a scrape, with promlint's own
//! words. o11y's naming rules (`o11y-naming`, checked by `#[metric]` and
//! `init()`) already refuse some of the same things (a counter without
//! `_total`, `_total` on another type, no help, the `le` and `quantile`
//! labels); the rest are the conventions a declaration can still break:
//! units other than the base unit, abbreviated units, the type in the
//! name, `:` in the name, camelCase, and the suffixes of histogram and
//! summary series.
//!
//! promlint's duplicate rule looks at the samples of a scrape; the
//! catalog's counterpart, a name declared twice, is the registry's check.

use crate::metrics::MetricKind;

/// Each unit promlint knows, and its base unit.
const UNITS: &[(&str, &str)] = &[
    // Base units.
    ("amperes", "amperes"),
    ("bytes", "bytes"),
    ("celsius", "celsius"),
    ("grams", "grams"),
    ("joules", "joules"),
    ("kelvin", "kelvin"),
    ("meters", "meters"),
    ("metres", "metres"),
    ("seconds", "seconds"),
    ("volts", "volts"),
    // Time.
    ("minutes", "seconds"),
    ("hours", "seconds"),
    ("days", "seconds"),
    ("weeks", "seconds"),
    // Temperature.
    ("kelvins", "kelvin"),
    ("fahrenheit", "celsius"),
    ("rankine", "celsius"),
    // Length.
    ("inches", "meters"),
    ("yards", "meters"),
    ("miles", "meters"),
    // Bytes.
    ("bits", "bytes"),
    // Energy.
    ("calories", "joules"),
    // Mass.
    ("pounds", "grams"),
    ("ounces", "grams"),
];

/// The prefixes promlint recognises before a unit (`milliseconds`).
const UNIT_PREFIXES: &[&str] = &[
    "pico", "nano", "micro", "milli", "centi", "deci", "deca", "hecto", "kilo", "kibi", "mega",
    "mibi", "giga", "gibi", "tera", "tebi", "peta", "pebi",
];

/// Abbreviated units promlint discourages, as a whole `_`-separated word.
const UNIT_ABBREVIATIONS: &[&str] = &[
    "s", "ms", "us", "ns", "sec", "b", "kb", "mb", "gb", "tb", "pb", "m", "h", "d",
];

/// promlint's problems with a metric declared as `kind` named `name`, with
/// `help` and `labels`: its sentences, sorted (as promlint sorts them) and
/// each once.
pub(super) fn lint(kind: MetricKind, name: &str, help: &str, labels: &[&str]) -> Vec<String> {
    let mut problems = Vec::new();
    if help.trim().is_empty() {
        problems.push("no help text".to_owned());
    }
    if let Some((unit, base)) = unit_of(name)
        && unit != base
    {
        problems.push(format!("use base unit {base:?} instead of {unit:?}"));
    }
    let total = name.ends_with("_total");
    match kind {
        MetricKind::Counter if !total => {
            problems.push(r#"counter metrics should have "_total" suffix"#.to_owned())
        }
        MetricKind::Gauge | MetricKind::Histogram if total => {
            problems.push(r#"non-counter metrics should not have "_total" suffix"#.to_owned())
        }
        _ => {}
    }
    reserved_for_histograms(kind, name, labels, &mut problems);
    let lower = name.to_ascii_lowercase();
    let type_name = kind.as_str();
    if lower.contains(&format!("_{type_name}_")) || lower.ends_with(&format!("_{type_name}")) {
        problems.push(format!("metric name should not include type '{type_name}'"));
    }
    if name.contains(':') {
        problems.push("metric names should not contain ':'".to_owned());
    }
    if is_camel_case(name) {
        problems.push("metric names should be written in 'snake_case' not 'camelCase'".to_owned());
    }
    if labels.iter().any(|label| is_camel_case(label)) {
        problems.push("label names should be written in 'snake_case' not 'camelCase'".to_owned());
    }
    if UNIT_ABBREVIATIONS
        .iter()
        .any(|abbreviation| lower.split('_').skip(1).any(|word| word == *abbreviation))
    {
        problems.push("metric names should not contain abbreviated units".to_owned());
    }
    problems.sort();
    problems.dedup();
    problems
}

/// The suffixes and labels of histogram and summary series (o11y has no
/// summaries).
fn reserved_for_histograms(
    kind: MetricKind,
    name: &str,
    labels: &[&str],
    problems: &mut Vec<String>,
) {
    // o11y has no summaries: every metric is a non-summary.
    if labels.contains(&"quantile") {
        problems.push(r#"non-summary metrics should not have "quantile" label"#.to_owned());
    }
    if kind == MetricKind::Histogram {
        return;
    }
    if name.ends_with("_bucket") {
        problems.push(r#"non-histogram metrics should not have "_bucket" suffix"#.to_owned());
    }
    for suffix in ["_count", "_sum"] {
        if name.ends_with(suffix) {
            problems.push(format!(
                "non-histogram and non-summary metrics should not have {suffix:?} suffix"
            ));
        }
    }
    if labels.contains(&"le") {
        problems.push(r#"non-histogram metrics should not have "le" label"#.to_owned());
    }
}

/// The first `_`-separated word of `name` that is a unit promlint knows
/// (with or without a prefix), and its base unit.
fn unit_of(name: &str) -> Option<(&str, &'static str)> {
    name.split('_').find_map(|word| {
        if let Some((_, base)) = UNITS.iter().find(|(unit, _)| *unit == word) {
            return Some((word, *base));
        }
        UNIT_PREFIXES.iter().find_map(|prefix| {
            let rest = word.strip_prefix(prefix)?;
            UNITS
                .iter()
                .find(|(unit, _)| *unit == rest)
                .map(|(_, base)| (word, *base))
        })
    })
}

/// A lowercase letter followed by an uppercase one: promlint's `[a-z][A-Z]`.
fn is_camel_case(name: &str) -> bool {
    name.as_bytes()
        .windows(2)
        .any(|pair| pair[0].is_ascii_lowercase() && pair[1].is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use MetricKind::{Counter, Gauge, Histogram};

    fn problems(kind: MetricKind, name: &str, labels: &[&str]) -> Vec<String> {
        lint(kind, name, "Some help", labels)
    }

    #[test]
    fn well_named_metrics_pass() {
        assert!(problems(Counter, "http_requests_total", &["method"]).is_empty());
        assert!(problems(Histogram, "db_query_duration_seconds", &["db_system"]).is_empty());
        assert!(problems(Gauge, "queue_depth", &[]).is_empty());
        assert!(problems(Counter, "sent_bytes_total", &[]).is_empty());
        // Abbreviations count only as whole words: `us` in `status`, `d` in `db`.
        assert!(problems(Gauge, "status_of_db", &["dbms"]).is_empty());
    }

    // The cases of promlint's own tests (promlint_test.go), where they apply
    // to a declaration.
    #[test]
    fn promlints_problems_in_its_words() {
        let one = |kind, name: &str, labels: &[&str]| {
            let found = problems(kind, name, labels);
            assert_eq!(found.len(), 1, "{name}: {found:?}");
            found.into_iter().next().unwrap()
        };
        assert_eq!(lint(Gauge, "x", "", &[]), ["no help text"]);
        assert_eq!(
            one(Histogram, "request_duration_milliseconds", &[]),
            r#"use base unit "seconds" instead of "milliseconds""#
        );
        assert_eq!(
            one(Gauge, "x_kibibits", &[]),
            r#"use base unit "bytes" instead of "kibibits""#
        );
        assert_eq!(
            one(Gauge, "x_total", &[]),
            r#"non-counter metrics should not have "_total" suffix"#
        );
        assert_eq!(
            one(Gauge, "x_bucket", &[]),
            r#"non-histogram metrics should not have "_bucket" suffix"#
        );
        assert_eq!(
            one(Gauge, "x_sum", &[]),
            r#"non-histogram and non-summary metrics should not have "_sum" suffix"#
        );
        assert_eq!(
            one(Gauge, "x", &["le"]),
            r#"non-histogram metrics should not have "le" label"#
        );
        assert_eq!(
            one(Histogram, "x_seconds", &["quantile"]),
            r#"non-summary metrics should not have "quantile" label"#
        );
        assert_eq!(
            one(Counter, "requests_counter_total", &[]),
            "metric name should not include type 'counter'"
        );
        assert_eq!(
            one(Gauge, "queue_gauge", &[]),
            "metric name should not include type 'gauge'"
        );
        assert_eq!(
            one(Gauge, "job:queue", &[]),
            "metric names should not contain ':'"
        );
        assert_eq!(
            one(Gauge, "queueDepth", &[]),
            "metric names should be written in 'snake_case' not 'camelCase'"
        );
        assert_eq!(
            one(Gauge, "queue", &["queueName"]),
            "label names should be written in 'snake_case' not 'camelCase'"
        );
        assert_eq!(
            one(Histogram, "request_duration_ms", &[]),
            "metric names should not contain abbreviated units"
        );
    }

    #[test]
    fn several_problems_are_sorted() {
        assert_eq!(
            problems(Gauge, "fooBar_milliseconds_count", &[]),
            [
                "metric names should be written in 'snake_case' not 'camelCase'",
                r#"non-histogram and non-summary metrics should not have "_count" suffix"#,
                r#"use base unit "seconds" instead of "milliseconds""#,
            ]
        );
    }
}
