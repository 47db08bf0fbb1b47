//! The naming rules of metrics (Prometheus/OpenMetrics conventions), as
//! pure functions on plain values. This file has no dependencies and uses no
//! `crate::` path because the `o11y-macros` crate compiles it too (through
//! `#[path]`), so that `#[metric]` rejects at compile time exactly what
//! `init()` would reject at run time.

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
