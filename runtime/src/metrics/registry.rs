//! The link-time registry: every metric registered with
//! [`register_metric!`](crate::register_metric) in any crate of the binary
//! is in one `linkme` distributed slice, known before its first use; `init()`
//! checks it (valid names, no name declared twice) and exposition walks it.

use std::collections::HashMap;

use super::desc::{MetricDesc, MetricKind};
use super::types::Metric;

/// One registered metric and where it was declared.
pub struct Registration {
    /// The metric static.
    pub metric: &'static dyn Metric,
    /// The declaring file (`file!()`).
    pub file: &'static str,
    /// The declaring line (`line!()`).
    pub line: u32,
    /// Declared by o11y itself (its HTTP, database, task and pipeline
    /// metrics), not by the application: the catalog's `origin`.
    #[doc(hidden)]
    pub own: bool,
}

impl Registration {
    fn site(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }
}

/// Every metric of the binary. Populated at link time; do not add to it by
/// hand, use [`register_metric!`](crate::register_metric).
// linkme places the slice in a link section, which the `unsafe_code` lint
// flags; the section is linkme's, read only through its safe API.
#[allow(unsafe_code)]
#[linkme::distributed_slice]
pub static METRICS: [Registration];

/// Registers a metric static in the binary-wide registry, so `/metrics`
/// shows it (with HELP, TYPE and zero values) from the first scrape, and
/// `init()` checks it. The `#[metric]` attribute does this for you.
///
/// ```
/// use o11y_runtime::metrics::{Counter, MetricDesc};
/// static RETRIES: Counter = Counter::new(MetricDesc::counter("retries_total", "Retries of failed calls"));
/// o11y_runtime::register_metric!(RETRIES);
/// ```
#[macro_export]
macro_rules! register_metric {
    ($metric:path) => {
        $crate::register_metric!(@origin $metric, false);
    };
    (@origin $metric:path, $own:literal) => {
        const _: () = {
            // No `allow(unsafe_code)` for linkme's link-section static: the
            // lint does not look into other crates' macros, and an `allow`
            // would be refused in a crate that says `forbid(unsafe_code)`.
            #[$crate::metrics::__linkme::distributed_slice($crate::metrics::METRICS)]
            #[linkme(crate = $crate::metrics::__linkme)]
            static REGISTRATION: $crate::metrics::Registration = $crate::metrics::Registration {
                metric: &$metric,
                file: ::core::file!(),
                line: ::core::line!(),
                own: $own,
            };
        };
    };
}

/// [`register_metric!`] for the runtime's own metrics: in this crate, whose
/// lints deny `unsafe_code`, the lint sees linkme's link-section static.
macro_rules! register_own_metric {
    ($metric:path) => {
        #[allow(unsafe_code)]
        const _: () = {
    $crate::register_metric!(@origin $metric, true);
        };
    };
}
pub(crate) use register_own_metric;

/// A metric as the catalog lists it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CatalogEntry {
    /// The full name.
    pub name: &'static str,
    /// Counter, gauge or histogram.
    pub kind: MetricKind,
    /// The help text.
    pub help: &'static str,
    /// The unit, if any.
    pub unit: Option<&'static str>,
    /// The label names.
    pub labels: &'static [&'static str],
    /// The bucket bounds (histograms only).
    pub buckets: &'static [f64],
    /// Where it was declared, `file:line`.
    pub declared_at: String,
    /// Declared by o11y itself rather than by the application.
    pub own: bool,
}

/// Every registered metric, sorted by name: for tooling (dashboards, alert
/// rules, `o11y check`).
pub fn catalog() -> Vec<CatalogEntry> {
    let mut entries: Vec<CatalogEntry> = METRICS
        .iter()
        .map(|registration| {
            let desc = registration.metric.desc();
            CatalogEntry {
                name: desc.name,
                kind: desc.kind,
                help: desc.help,
                unit: desc.unit,
                labels: desc.labels,
                buckets: if desc.kind == MetricKind::Histogram {
                    desc.buckets
                } else {
                    &[]
                },
                declared_at: registration.site(),
                own: registration.own,
            }
        })
        .collect();
    entries.sort_by(|a, b| {
        a.name
            .cmp(b.name)
            .then_with(|| a.declared_at.cmp(&b.declared_at))
    });
    entries
}

/// Why the registry is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// A metric breaks the naming rules.
    #[error("{reason} (declared at {site})")]
    Invalid {
        /// What is wrong and what is allowed.
        reason: String,
        /// Where it was declared.
        site: String,
    },
    /// Two declarations share a name.
    #[error(
        "metric `{name}` is declared twice: {first} at {first_site} and {second} at {second_site}; \
         a metric name must be declared once per binary (share the static instead)"
    )]
    Duplicate {
        /// The name.
        name: String,
        /// Type and labels of the first declaration.
        first: String,
        /// Where the first was declared.
        first_site: String,
        /// Type and labels of the second.
        second: String,
        /// Where the second was declared.
        second_site: String,
    },
}

fn describe(desc: &MetricDesc) -> String {
    format!("{} with labels [{}]", desc.kind, desc.labels.join(", "))
}

/// Checks every registered metric: valid, and each name declared once.
pub fn check() -> Result<(), RegistryError> {
    check_registrations(&METRICS)
}

pub(crate) fn check_registrations(registrations: &[Registration]) -> Result<(), RegistryError> {
    // Every name a metric takes in either exposition format: its own, a
    // counter's OpenMetrics family name, a histogram's sample names.
    let mut taken: HashMap<String, &Registration> = HashMap::with_capacity(registrations.len() * 2);
    // Sorted, so the error for a given binary is always the same one.
    let mut sorted: Vec<&Registration> = registrations.iter().collect();
    sorted.sort_by_key(|r| (r.metric.desc().name, r.file, r.line));
    for registration in sorted {
        let desc = registration.metric.desc();
        desc.validate().map_err(|reason| RegistryError::Invalid {
            reason,
            site: registration.site(),
        })?;
        for name in exposed_names(desc) {
            if let Some(first) = taken.insert(name, registration) {
                let first_desc = first.metric.desc();
                return Err(RegistryError::Duplicate {
                    name: if first_desc.name == desc.name {
                        desc.name.to_owned()
                    } else {
                        format!("{}` / `{}", first_desc.name, desc.name)
                    },
                    first: describe(first_desc),
                    first_site: first.site(),
                    second: describe(desc),
                    second_site: registration.site(),
                });
            }
        }
    }
    Ok(())
}

fn exposed_names(desc: &MetricDesc) -> Vec<String> {
    let name = desc.name;
    match desc.kind {
        MetricKind::Counter => {
            let family = desc.family_name();
            if family == name {
                vec![name.to_owned()]
            } else {
                vec![name.to_owned(), family.to_owned()]
            }
        }
        MetricKind::Gauge => vec![name.to_owned()],
        MetricKind::Histogram => ["", "_bucket", "_sum", "_count"]
            .iter()
            .map(|s| format!("{name}{s}"))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{Counter, Gauge};

    static A: Counter = Counter::new(MetricDesc::counter("dup_total", "A"));
    static B: Counter = Counter::new(MetricDesc::counter("dup_total", "B"));
    static BAD: Gauge = Gauge::new(MetricDesc::gauge("bad_total", "Bad"));

    #[test]
    fn a_duplicate_names_both_sites() {
        let registrations = [
            Registration {
                metric: &B,
                file: "src/b.rs",
                line: 20,
                own: false,
            },
            Registration {
                metric: &A,
                file: "src/a.rs",
                line: 10,
                own: false,
            },
        ];
        let error = check_registrations(&registrations).unwrap_err().to_string();
        assert!(error.contains("`dup_total` is declared twice"), "{error}");
        assert!(
            error.contains("src/a.rs:10") && error.contains("src/b.rs:20"),
            "{error}"
        );
    }

    #[test]
    fn the_same_static_registered_twice_is_a_duplicate_too() {
        let registrations = [
            Registration {
                metric: &A,
                file: "src/a.rs",
                line: 10,
                own: false,
            },
            Registration {
                metric: &A,
                file: "src/a.rs",
                line: 11,
                own: false,
            },
        ];
        assert!(matches!(
            check_registrations(&registrations),
            Err(RegistryError::Duplicate { .. })
        ));
    }

    static JOBS_TOTAL: Counter = Counter::new(MetricDesc::counter("jobs_total", "Jobs run"));
    static JOBS: Gauge = Gauge::new(MetricDesc::gauge("jobs", "Jobs running"));
    static LATENCY: crate::metrics::Histogram =
        crate::metrics::Histogram::new(MetricDesc::histogram("latency_seconds", "Latency"));
    static LATENCY_COUNT: Gauge = Gauge::new(MetricDesc::gauge("latency_seconds_count", "Clashes"));

    #[test]
    fn names_that_collide_in_the_exposition_are_refused() {
        // A counter's OpenMetrics family `jobs` is the gauge's name.
        let family = [
            Registration {
                metric: &JOBS_TOTAL,
                file: "src/a.rs",
                line: 1,
                own: false,
            },
            Registration {
                metric: &JOBS,
                file: "src/b.rs",
                line: 2,
                own: false,
            },
        ];
        let error = check_registrations(&family).unwrap_err().to_string();
        assert!(
            error.contains("src/a.rs:1") && error.contains("src/b.rs:2"),
            "{error}"
        );
        // A histogram exposes `<name>_count`.
        let samples = [
            Registration {
                metric: &LATENCY,
                file: "src/a.rs",
                line: 1,
                own: false,
            },
            Registration {
                metric: &LATENCY_COUNT,
                file: "src/b.rs",
                line: 2,
                own: false,
            },
        ];
        assert!(check_registrations(&samples).is_err());
    }

    #[test]
    fn an_invalid_metric_names_its_site() {
        let registrations = [Registration {
            metric: &BAD,
            file: "src/g.rs",
            line: 3,
            own: false,
        }];
        let error = check_registrations(&registrations).unwrap_err().to_string();
        assert!(
            error.contains("which is for counters") && error.contains("src/g.rs:3"),
            "{error}"
        );
    }

    #[test]
    fn the_runtime_s_own_metrics_are_registered_and_valid() {
        check().expect("the registry of this test binary is valid");
        let names: Vec<_> = catalog().into_iter().map(|e| e.name).collect();
        for own in [
            "o11y_build_info",
            "o11y_spans_dropped_total",
            "o11y_metric_series_overflow_total",
        ] {
            assert!(names.contains(&own), "{own} missing from {names:?}");
        }
    }
}
