//! Profiles: which one is in force, and the defaults each one starts from.
//!
//! A profile is chosen at compile time by the cargo features
//! `profile-test` > `profile-prod` > `profile-dev` (see
//! [`Profile::compiled_default`]) and can be overridden at run time by
//! `O11Y_PROFILE`, by `profile = "..."` in `o11y.toml`, or by
//! [`ConfigBuilder::profile`](super::ConfigBuilder::profile).
//!
//! Everything the profile does not decide (service name, log file path) is
//! resolved by the loader after all sources are applied.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use super::keys::k;
use super::table::default;
use super::{
    AlertsConfig, Config, DbConfig, DevConsoleConfig, ErrorsConfig, HttpClientConfig, HttpConfig,
    LimitsConfig, LoggingConfig, MetricsConfig, NPlusOneConfig, OtlpSignals, RedactionConfig,
    SentryConfig, SloConfig, TracingConfig,
};

/// A named set of defaults.
///
/// The default of every key in each profile is in the key table of the
/// [`config`](super) module docs: `dev` logs at DEBUG to the console and a
/// file and keeps every trace; `prod` logs JSON at INFO and keeps 1% of root
/// traces; `test` turns tracing and metrics off and logs WARN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Profile {
    /// Local development: console logs at DEBUG, every trace kept, a log file.
    Dev,
    /// Production: JSON logs at INFO, 1% of root traces, parent-based.
    Prod,
    /// Test runs: telemetry off, WARN logs.
    Test,
}

impl Profile {
    /// Every profile, in the order they are listed in messages.
    pub const ALL: [Profile; 3] = [Profile::Dev, Profile::Prod, Profile::Test];

    /// What a profile name may be, for error messages.
    pub(super) const EXPECTED: &'static str = "one of dev, prod, test";

    /// The profile's name as written in `O11Y_PROFILE` and `o11y.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Dev => "dev",
            Profile::Prod => "prod",
            Profile::Test => "test",
        }
    }

    /// The profile chosen when nothing at run time names one.
    ///
    /// Decided by the features of `o11y-runtime`. Feature unification can
    /// switch on several at once, so they are ranked: `profile-test` first
    /// (a test harness must win over the app's own choice), then
    /// `profile-prod` (safer than dev when in doubt), then `profile-dev`.
    /// With none of them: `Dev` in debug builds, `Prod` in release builds.
    pub fn compiled_default() -> Profile {
        if cfg!(feature = "profile-test") {
            Profile::Test
        } else if cfg!(feature = "profile-prod") {
            Profile::Prod
        } else if cfg!(feature = "profile-dev") || cfg!(debug_assertions) {
            Profile::Dev
        } else {
            Profile::Prod
        }
    }

    /// The profile's defaults, from the key table. `service_name` and
    /// `logging.file_path` are left empty: they depend on the other sources
    /// and are filled in last.
    pub(super) fn base_config(self) -> Config {
        Config {
            profile: self,
            service_name: String::new(),
            service_version: default::<k::ServiceVersion>(self),
            resource_attributes: default::<k::ResourceAttributes>(self).into_iter().collect(),
            shutdown_timeout: default::<k::ShutdownTimeout>(self),
            tracing: TracingConfig {
                enabled: default::<k::TracingEnabled>(self),
                otlp_endpoint: default::<k::OtlpEndpoint>(self),
                otlp_protocol: default::<k::OtlpProtocol>(self),
                sample_rate: default::<k::SampleRate>(self),
                parent_based: default::<k::ParentBased>(self),
                keep_errors: default::<k::KeepErrors>(self),
                keep_slower_than: default::<k::KeepSlowerThan>(self),
                tail_max_spans_per_trace: default::<k::TailMaxSpansPerTrace>(self),
                tail_max_bytes: default::<k::TailMaxBytes>(self),
                console_exporter: default::<k::ConsoleExporter>(self),
                signals: OtlpSignals::default(),
            },
            logging: LoggingConfig {
                format: default::<k::LogFormat>(self),
                level: default::<k::LogLevel>(self),
                file_enabled: default::<k::LogFileEnabled>(self),
                file_path: PathBuf::new(),
                otlp_enabled: default::<k::LogOtlpEnabled>(self),
            },
            metrics: MetricsConfig {
                enabled: default::<k::MetricsEnabled>(self),
                otlp_enabled: default::<k::MetricsOtlpEnabled>(self),
                otlp_interval: default::<k::MetricsOtlpInterval>(self),
                endpoint: default::<k::MetricsEndpoint>(self),
                listen: default::<k::MetricsListen>(self),
                series_cap: default::<k::MetricsSeriesCap>(self),
                allow_from: default::<k::MetricsAllowFrom>(self),
                bearer_token: default::<k::MetricsBearerToken>(self),
            },
            http: HttpConfig {
                access_log: default::<k::HttpAccessLog>(self),
                exclude_paths: default::<k::HttpExcludePaths>(self),
                capture_headers: default::<k::HttpCaptureHeaders>(self),
                client: HttpClientConfig {
                    forward_request_id: default::<k::HttpClientForwardRequestId>(self),
                },
            },
            dev_console: DevConsoleConfig {
                enabled: default::<k::DevConsoleEnabled>(self),
                allow_in_prod: default::<k::DevConsoleAllowInProd>(self),
                allow_from: default::<k::DevConsoleAllowFrom>(self),
                max_traces: default::<k::DevConsoleMaxTraces>(self),
                max_bytes: default::<k::DevConsoleMaxBytes>(self),
                max_body_bytes: default::<k::DevConsoleMaxBodyBytes>(self),
            },
            db: DbConfig {
                n_plus_one: NPlusOneConfig {
                    threshold: default::<k::DbNPlusOneThreshold>(self),
                    min_duration: default::<k::DbNPlusOneMinDuration>(self),
                    allowlist: default::<k::DbNPlusOneAllowlist>(self),
                    mode: default::<k::DbNPlusOneMode>(self),
                },
                capture_parameters: default::<k::DbCaptureParameters>(self),
                trace_root_queries: default::<k::DbTraceRootQueries>(self),
            },
            errors: ErrorsConfig {
                backtrace: default::<k::ErrorsBacktrace>(self),
            },
            sentry: SentryConfig {
                dsn: default::<k::SentryDsn>(self),
                environment: default::<k::SentryEnvironment>(self),
                release: default::<k::SentryRelease>(self),
                event_sample_rate: default::<k::SentryEventSampleRate>(self),
            },
            redaction: RedactionConfig {
                enabled: default::<k::RedactionEnabled>(self),
                keys: default::<k::RedactionKeys>(self),
                allow_keys: default::<k::RedactionAllowKeys>(self),
                patterns: default::<k::RedactionPatterns>(self),
                replacement: default::<k::RedactionReplacement>(self),
            },
            limits: LimitsConfig {
                attribute_value_length: default::<k::LimitsAttributeValueLength>(self),
                span_attribute_count: default::<k::LimitsSpanAttributeCount>(self),
                span_event_count: default::<k::LimitsSpanEventCount>(self),
                span_link_count: default::<k::LimitsSpanLinkCount>(self),
            },
            slo: SloConfig {
                routes: default::<k::SloRoutes>(self),
            },
            alerts: AlertsConfig {
                http_latency_p99: default::<k::AlertsHttpLatencyP99>(self),
                task_queue_wait_p95: default::<k::AlertsTaskQueueWaitP95>(self),
            },
            sources: Default::default(),
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Profile {
    type Err = ParseProfileError;

    /// Parses `dev`, `prod` or `test`, ignoring ASCII case and surrounding
    /// whitespace.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        Profile::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| ParseProfileError {
                value: s.to_owned(),
            })
    }
}

/// A string that names no [`Profile`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown profile {value:?}: expected {}", Profile::EXPECTED)]
pub struct ParseProfileError {
    value: String,
}

impl ParseProfileError {
    /// The rejected input.
    pub fn value(&self) -> &str {
        &self.value
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::KNOWN_KEYS;
    use crate::config::keys::{default_setting, read};

    #[test]
    fn parses_case_insensitively() {
        assert_eq!("dev".parse(), Ok(Profile::Dev));
        assert_eq!("PROD".parse(), Ok(Profile::Prod));
        assert_eq!(" Test ".parse(), Ok(Profile::Test));
    }

    #[test]
    fn unknown_profile_lists_allowed_values() {
        let err = "staging".parse::<Profile>().unwrap_err();
        assert_eq!(err.value(), "staging");
        assert_eq!(
            err.to_string(),
            r#"unknown profile "staging": expected one of dev, prod, test"#
        );
    }

    /// `base_config` puts each default in the field its key's dotted name
    /// names, the field the table stores the key's values in.
    #[test]
    fn base_config_holds_each_keys_default_where_its_name_says() {
        for profile in Profile::ALL {
            let config = profile.base_config();
            // `None`: stored by hand, computed, or unset (and unset in the base).
            for def in KNOWN_KEYS {
                if let Some(value) = read(&config, def.key) {
                    let expected = default_setting(def.key, profile);
                    assert_eq!(Some(value), expected, "{} in {profile}", def.name);
                }
            }
        }
    }

    #[test]
    fn display_round_trips() {
        for p in Profile::ALL {
            assert_eq!(p.to_string().parse(), Ok(p));
        }
    }

    #[test]
    #[cfg(not(any(
        feature = "profile-dev",
        feature = "profile-prod",
        feature = "profile-test"
    )))]
    fn without_features_the_build_kind_decides() {
        let expected = if cfg!(debug_assertions) {
            Profile::Dev
        } else {
            Profile::Prod
        };
        assert_eq!(Profile::compiled_default(), expected);
    }

    #[test]
    #[cfg(feature = "profile-test")]
    fn test_feature_wins_over_the_others() {
        assert_eq!(Profile::compiled_default(), Profile::Test);
    }

    #[test]
    #[cfg(all(feature = "profile-prod", not(feature = "profile-test")))]
    fn prod_feature_wins_over_dev() {
        assert_eq!(Profile::compiled_default(), Profile::Prod);
    }
}
