//! What a metric is, independent of its values: name, type, help, unit,
//! label names, buckets, series cap, exemplars; and the naming rules every metric must
//! follow (Prometheus/OpenMetrics conventions).

use std::fmt;

use super::naming;

/// The OpenTelemetry default bucket boundaries for durations in seconds:
/// 5 ms to 10 s. (Defined with the naming rules, which the macros share:
/// `#[observe(objective(..))]` checks a latency threshold against them.)
pub const DEFAULT_SECONDS_BUCKETS: &[f64] = o11y_naming::DEFAULT_SECONDS_BUCKETS;

/// The type of a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricKind {
    /// A monotonically increasing count; its name ends in `_total`.
    Counter,
    /// A value that goes up and down.
    Gauge,
    /// Observations counted into buckets, with their sum.
    Histogram,
}

impl MetricKind {
    /// The name used in `# TYPE` lines.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricKind::Counter => "counter",
            MetricKind::Gauge => "gauge",
            MetricKind::Histogram => "histogram",
        }
    }
}

impl fmt::Display for MetricKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The static description of a metric, built in a `const` context.
///
/// ```
/// use o11y_runtime::metrics::MetricDesc;
/// const PAYMENTS: MetricDesc = MetricDesc::counter("payments_total", "Payments processed")
///     .labels(&["status", "method"]);
/// const LATENCY: MetricDesc = MetricDesc::histogram("checkout_duration_seconds", "Checkout latency")
///     .unit("seconds")
///     .buckets(&[0.01, 0.1, 1.0]);
/// # assert!(PAYMENTS.validate().is_ok() && LATENCY.validate().is_ok());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricDesc {
    /// The full metric name (a counter's includes `_total`).
    pub name: &'static str,
    /// Counter, gauge or histogram.
    pub kind: MetricKind,
    /// One line saying what it measures (`# HELP`).
    pub help: &'static str,
    /// The base unit, also a suffix of the name (`seconds`, `bytes`, …).
    pub unit: Option<&'static str>,
    /// The label names, fixed at declaration.
    pub labels: &'static [&'static str],
    /// Histogram bucket upper bounds, strictly increasing (`+Inf` is implied).
    pub buckets: &'static [f64],
    /// The most label sets this metric keeps; `None`: the global cap.
    pub series_cap: Option<usize>,
    /// Whether the plain recording calls (`inc`, `inc_by`, `observe`)
    /// inside a sampled span link it as exemplar; see
    /// [`MetricDesc::exemplars`].
    pub exemplars: bool,
}

impl MetricDesc {
    const fn new(kind: MetricKind, name: &'static str, help: &'static str) -> Self {
        MetricDesc {
            name,
            kind,
            help,
            unit: None,
            labels: &[],
            buckets: &[],
            series_cap: None,
            exemplars: true,
        }
    }

    /// A counter; `name` must end in `_total`.
    pub const fn counter(name: &'static str, help: &'static str) -> Self {
        Self::new(MetricKind::Counter, name, help)
    }

    /// A gauge.
    pub const fn gauge(name: &'static str, help: &'static str) -> Self {
        Self::new(MetricKind::Gauge, name, help)
    }

    /// A histogram, with [`DEFAULT_SECONDS_BUCKETS`] unless [`MetricDesc::buckets`] says otherwise.
    pub const fn histogram(name: &'static str, help: &'static str) -> Self {
        let mut desc = Self::new(MetricKind::Histogram, name, help);
        desc.buckets = DEFAULT_SECONDS_BUCKETS;
        desc
    }

    /// Sets the label names.
    pub const fn labels(mut self, labels: &'static [&'static str]) -> Self {
        self.labels = labels;
        self
    }

    /// Sets the unit; the name must end in `_<unit>` (before `_total`).
    pub const fn unit(mut self, unit: &'static str) -> Self {
        self.unit = Some(unit);
        self
    }

    /// Sets the histogram buckets.
    pub const fn buckets(mut self, buckets: &'static [f64]) -> Self {
        self.buckets = buckets;
        self
    }

    /// Caps the number of label sets of this metric.
    pub const fn series_cap(mut self, cap: usize) -> Self {
        self.series_cap = Some(cap);
        self
    }

    /// Whether the plain recording calls of a counter or histogram (`inc`,
    /// `inc_by`, `observe`, a histogram timer) inside a sampled span link
    /// that span as exemplar: on by default, for one recording in 64 of
    /// each series or bucket. `exemplars(false)` turns that off for this
    /// metric (`#[metric(.., exemplars = false)]`); the explicit
    /// `inc_by_with_exemplar`, `observe_with_exemplar` and `*_with_span`
    /// calls still link theirs. No effect on a gauge, which has no
    /// exemplars.
    pub const fn exemplars(mut self, on: bool) -> Self {
        self.exemplars = on;
        self
    }

    /// The OpenMetrics family name: a counter's name without `_total`.
    pub fn family_name(&self) -> &'static str {
        match self.kind {
            MetricKind::Counter => self.name.strip_suffix("_total").unwrap_or(self.name),
            _ => self.name,
        }
    }

    /// Checks the naming rules; the error says what is wrong and what is allowed.
    pub fn validate(&self) -> Result<(), String> {
        let kind = match self.kind {
            MetricKind::Counter => naming::Kind::Counter,
            MetricKind::Gauge => naming::Kind::Gauge,
            MetricKind::Histogram => naming::Kind::Histogram,
        };
        naming::validate_name(kind, self.name, self.unit)?;
        naming::validate_help(self.name, self.help)?;
        naming::validate_labels(self.name, self.labels)?;
        if self.kind == MetricKind::Histogram {
            naming::validate_buckets(self.name, self.buckets)?;
        }
        if self.series_cap == Some(0) {
            return Err(format!(
                "metric `{}` has a series cap of 0: it could keep no series",
                self.name
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(desc: MetricDesc) -> String {
        desc.validate().expect_err("invalid")
    }

    #[test]
    fn good_descriptions_pass() {
        MetricDesc::counter("payments_total", "Payments")
            .labels(&["status", "method"])
            .validate()
            .unwrap();
        MetricDesc::gauge("queue_depth", "Jobs waiting")
            .validate()
            .unwrap();
        MetricDesc::histogram("db_query_duration_seconds", "Query time")
            .unit("seconds")
            .validate()
            .unwrap();
        MetricDesc::counter("sent_bytes_total", "Bytes sent")
            .unit("bytes")
            .validate()
            .unwrap();
    }

    #[test]
    fn bad_descriptions_say_why() {
        assert!(err(MetricDesc::counter("payments", "P")).contains("must end in `_total`"));
        assert!(err(MetricDesc::gauge("open_total", "O")).contains("which is for counters"));
        assert!(err(MetricDesc::counter("9lives_total", "N")).contains("not valid"));
        assert!(err(MetricDesc::counter("a-b_total", "N")).contains("not valid"));
        assert!(err(MetricDesc::counter("__x_total", "N")).contains("reserves"));
        assert!(err(MetricDesc::counter("x_total", " ")).contains("no help"));
        assert!(
            err(MetricDesc::histogram("latency", "L").unit("seconds"))
                .contains("must end in `_seconds`")
        );
        assert!(err(MetricDesc::counter("x_total", "X").labels(&["le"])).contains("reserved"));
        assert!(err(MetricDesc::counter("x_total", "X").labels(&["a", "a"])).contains("twice"));
        assert!(err(MetricDesc::counter("x_total", "X").labels(&["a-b"])).contains("not valid"));
        assert!(
            err(MetricDesc::histogram("h_seconds", "H").buckets(&[1.0, 1.0])).contains("strictly")
        );
        assert!(
            err(MetricDesc::histogram("h_seconds", "H").buckets(&[1.0, f64::INFINITY]))
                .contains("finite")
        );
        assert!(err(MetricDesc::histogram("h_seconds", "H").buckets(&[])).contains("no buckets"));
        assert!(err(MetricDesc::gauge("g", "G").series_cap(0)).contains("cap of 0"));
    }

    #[test]
    fn family_name_drops_total_for_counters_only() {
        assert_eq!(MetricDesc::counter("a_total", "A").family_name(), "a");
        assert_eq!(MetricDesc::gauge("b", "B").family_name(), "b");
    }
}
