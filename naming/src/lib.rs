//! The naming rules of o11y's metrics (the Prometheus/OpenMetrics
//! conventions): the metric name's charset, the reserved `__` prefix,
//! `_total` on counters and only on counters, the unit as a name suffix,
//! required help text, label names (charset, reserved `__` prefix, `le` and
//! `quantile`, duplicates) and histogram buckets; and, in [`objective`],
//! the rules of service level objectives measured on those histograms.
//!
//! Both `o11y-macros` and `o11y-runtime` depend on this crate, so that
//! `#[metric]` rejects at compile time exactly what `init()` rejects at run
//! time. It is pure functions on plain values, with no dependencies; the
//! errors are the one-sentence messages both report. It is a part of o11y's
//! implementation, published because the two crates are: depend on `o11y`.

pub mod objective;

/// The OpenTelemetry default bucket boundaries for durations in seconds,
/// 5 ms to 10 s: the buckets of o11y's duration histograms, which a
/// latency objective's threshold must be one of.
pub const DEFAULT_SECONDS_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// The type of a metric, as far as naming is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Name ends in `_total`.
    Counter,
    /// Name must not end in `_total`.
    Gauge,
    /// Name must not end in `_total`; exposes `_bucket`, `_sum`, `_count`.
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`
pub fn is_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`
pub fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The name's charset, the reserved `__` prefix, `_total` for counters
/// only, and the unit as a suffix.
pub fn validate_name(kind: Kind, name: &str, unit: Option<&str>) -> Result<(), String> {
    if !is_metric_name(name) {
        return Err(format!(
            "metric name `{name}` is not valid: use letters, digits and underscores, not starting \
             with a digit (e.g. `http_requests_total`)"
        ));
    }
    if name.starts_with("__") {
        return Err(format!(
            "metric name `{name}` starts with `__`, which Prometheus reserves"
        ));
    }
    match kind {
        Kind::Counter if !name.ends_with("_total") => {
            return Err(format!(
                "counter `{name}` must end in `_total` (e.g. `{name}_total`)"
            ));
        }
        Kind::Gauge | Kind::Histogram if name.ends_with("_total") => {
            return Err(format!(
                "{} `{name}` must not end in `_total`, which is for counters",
                kind.as_str()
            ));
        }
        _ => {}
    }
    if let Some(unit) = unit {
        let stem = if kind == Kind::Counter {
            name.strip_suffix("_total").unwrap_or(name)
        } else {
            name
        };
        if !is_label_name(unit) || !stem.ends_with(&format!("_{unit}")) {
            return Err(format!(
                "metric `{name}` has unit `{unit}`, so its name must end in `_{unit}`{}",
                if kind == Kind::Counter {
                    " (before `_total`)"
                } else {
                    ""
                }
            ));
        }
    }
    Ok(())
}

/// Help text is required.
pub fn validate_help(name: &str, help: &str) -> Result<(), String> {
    if help.trim().is_empty() {
        return Err(format!(
            "metric `{name}` has no help text: say in one line what it measures"
        ));
    }
    Ok(())
}

/// One label name: charset, no `__` prefix, not reserved.
pub fn validate_label(name: &str, label: &str) -> Result<(), String> {
    if !is_label_name(label) || label.starts_with("__") {
        return Err(format!(
            "label `{label}` of metric `{name}` is not valid: use letters, digits and underscores, \
             not starting with a digit or `__`"
        ));
    }
    if label == "le" || label == "quantile" {
        return Err(format!(
            "label `{label}` of metric `{name}` is reserved for histogram and summary buckets"
        ));
    }
    Ok(())
}

/// Every label name valid, none twice.
pub fn validate_labels(name: &str, labels: &[&str]) -> Result<(), String> {
    for (i, label) in labels.iter().enumerate() {
        validate_label(name, label)?;
        if labels[..i].contains(label) {
            return Err(format!("label `{label}` appears twice in metric `{name}`"));
        }
    }
    Ok(())
}

/// Buckets: at least one, finite, strictly increasing.
pub fn validate_buckets(name: &str, buckets: &[f64]) -> Result<(), String> {
    if buckets.is_empty() {
        return Err(format!("histogram `{name}` has no buckets"));
    }
    if buckets.iter().any(|b| !b.is_finite()) {
        return Err(format!(
            "histogram `{name}` has a bucket that is not finite (`+Inf` is implied)"
        ));
    }
    if buckets.windows(2).any(|w| w[0] >= w[1]) {
        return Err(format!(
            "the buckets of histogram `{name}` must be strictly increasing"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_and_label_name_charsets() {
        for good in ["a", "_a", ":a", "http_requests_total", "a:b_c9", "A"] {
            assert!(is_metric_name(good), "{good}");
        }
        for bad in ["", "9a", "a-b", "a b", "é", "a.b"] {
            assert!(!is_metric_name(bad), "{bad}");
        }
        for good in ["a", "_a", "status", "A9_b"] {
            assert!(is_label_name(good), "{good}");
        }
        for bad in ["", "9a", ":a", "a:b", "a-b"] {
            assert!(!is_label_name(bad), "{bad}");
        }
    }

    #[test]
    fn good_names_pass() {
        validate_name(Kind::Counter, "payments_total", None).unwrap();
        validate_name(Kind::Gauge, "queue_depth", None).unwrap();
        validate_name(
            Kind::Histogram,
            "db_query_duration_seconds",
            Some("seconds"),
        )
        .unwrap();
        validate_name(Kind::Counter, "sent_bytes_total", Some("bytes")).unwrap();
    }

    #[test]
    fn bad_names_say_why() {
        let err = |kind, name, unit| validate_name(kind, name, unit).unwrap_err();
        assert!(err(Kind::Counter, "9lives_total", None).contains("is not valid"));
        assert!(err(Kind::Gauge, "__up", None).contains("Prometheus reserves"));
        assert!(err(Kind::Counter, "payments", None).contains("must end in `_total`"));
        assert!(err(Kind::Gauge, "open_total", None).contains("gauge `open_total` must not end"));
        assert!(err(Kind::Histogram, "x_total", None).contains("histogram `x_total`"));
        assert_eq!(
            err(Kind::Counter, "sent_total", Some("bytes")),
            "metric `sent_total` has unit `bytes`, so its name must end in `_bytes` (before `_total`)"
        );
        assert_eq!(
            err(Kind::Histogram, "latency", Some("seconds")),
            "metric `latency` has unit `seconds`, so its name must end in `_seconds`"
        );
        // The unit must itself be a label-like word.
        assert!(err(Kind::Gauge, "x_a-b", Some("a-b")).contains("is not valid"));
        assert!(err(Kind::Gauge, "size_k:b", Some("k:b")).contains("has unit `k:b`"));
    }

    #[test]
    fn help_is_required() {
        validate_help("x", "What x counts").unwrap();
        assert!(
            validate_help("x", "")
                .unwrap_err()
                .contains("has no help text")
        );
        assert!(
            validate_help("x", "  \t")
                .unwrap_err()
                .contains("has no help text")
        );
    }

    #[test]
    fn labels() {
        validate_labels("x_total", &[]).unwrap();
        validate_labels("x_total", &["status", "method"]).unwrap();
        assert!(
            validate_label("x", "9a")
                .unwrap_err()
                .contains("label `9a` of metric `x` is not valid")
        );
        assert!(
            validate_label("x", "__a")
                .unwrap_err()
                .contains("is not valid")
        );
        assert!(
            validate_label("x", "le")
                .unwrap_err()
                .contains("is reserved")
        );
        assert!(
            validate_label("x", "quantile")
                .unwrap_err()
                .contains("is reserved")
        );
        assert_eq!(
            validate_labels("x", &["a", "b", "a"]).unwrap_err(),
            "label `a` appears twice in metric `x`"
        );
    }

    #[test]
    fn buckets() {
        validate_buckets("h", &[0.1]).unwrap();
        validate_buckets("h", &[-1.0, 0.0, 2.5]).unwrap();
        assert!(
            validate_buckets("h", &[])
                .unwrap_err()
                .contains("has no buckets")
        );
        assert!(
            validate_buckets("h", &[1.0, f64::INFINITY])
                .unwrap_err()
                .contains("not finite")
        );
        assert!(
            validate_buckets("h", &[f64::NAN])
                .unwrap_err()
                .contains("not finite")
        );
        assert!(
            validate_buckets("h", &[1.0, 1.0])
                .unwrap_err()
                .contains("strictly increasing")
        );
        assert!(
            validate_buckets("h", &[2.0, 1.0])
                .unwrap_err()
                .contains("strictly increasing")
        );
    }
}
