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
use std::time::Duration;

use super::{
    Config, DbConfig, HttpConfig, LogFormat, LoggingConfig, MetricsConfig, NPlusOneConfig,
    NPlusOneMode, OtlpProtocol, OtlpSignals, TracingConfig,
};

/// A named set of defaults.
///
/// | key                        | `dev`     | `prod`   | `test`    |
/// |----------------------------|-----------|----------|-----------|
/// | `logging.format`           | `console` | `json`   | `console` |
/// | `logging.level`            | `debug`   | `info`   | `warn`    |
/// | `logging.file_enabled`     | `true`    | `false`  | `false`   |
/// | `logging.otlp_enabled`     | `false`   | `false`  | `false`   |
/// | `tracing.enabled`          | `true`    | `true`   | `false`   |
/// | `tracing.sample_rate`      | `1.0`     | `0.01`   | `1.0`     |
/// | `tracing.parent_based`     | `true`    | `true`   | `true`    |
/// | `tracing.console_exporter` | `false`   | `false`  | `false`   |
/// | `metrics.enabled`          | `true`    | `true`   | `false`   |
/// | `metrics.otlp_enabled`     | `false`   | `false`  | `false`   |
/// | `metrics.otlp_interval`    | `10s`     | `60s`    | `60s`     |
/// | `db.n_plus_one.min_duration` | `0s`    | `50ms`   | `0s`      |
///
/// In every profile: `service_name` is the executable's file stem (or
/// `unknown_service`), `service_version` and `tracing.otlp_endpoint` are
/// unset, `tracing.otlp_protocol` is `grpc`, `shutdown_timeout` is `5s`, and
/// `logging.file_path` is
/// `${XDG_STATE_HOME:-$HOME/.local/state}/o11y/<service_name>/app.log`,
/// computed from the final service name; `metrics.endpoint` is `/metrics`,
/// `metrics.listen` `127.0.0.1:9464`, `metrics.series_cap` 2000,
/// `metrics.allow_from` empty (every client) and `metrics.bearer_token`
/// unset; `http.access_log` is `true` and `http.exclude_paths` is
/// `/metrics,/health,/healthz,/ready,/favicon.ico`; `db.n_plus_one.threshold`
/// is 5, `db.n_plus_one.mode` `warn`, `db.n_plus_one.allowlist` empty and
/// `db.capture_parameters` false.
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

    /// The profile's defaults. `service_name` and `logging.file_path` are
    /// left empty: they depend on the other sources and are filled in last.
    pub(super) fn base_config(self) -> Config {
        let (format, level, file_enabled) = match self {
            Profile::Dev => (LogFormat::Console, "debug", true),
            Profile::Prod => (LogFormat::Json, "info", false),
            Profile::Test => (LogFormat::Console, "warn", false),
        };
        let sample_rate = match self {
            Profile::Prod => 0.01,
            Profile::Dev | Profile::Test => 1.0,
        };
        let telemetry_on = self != Profile::Test;
        // Dev pushes often so a local collector shows metrics quickly.
        let otlp_interval = match self {
            Profile::Dev => Duration::from_secs(10),
            Profile::Prod | Profile::Test => Duration::from_secs(60),
        };
        // Sentry's default: below 50 ms in total, repeated queries are not
        // worth a production warning; in development every one is.
        let min_duration = match self {
            Profile::Prod => Duration::from_millis(50),
            Profile::Dev | Profile::Test => Duration::ZERO,
        };
        Config {
            profile: self,
            service_name: String::new(),
            service_version: None,
            resource_attributes: Default::default(),
            shutdown_timeout: Duration::from_secs(5),
            tracing: TracingConfig {
                enabled: telemetry_on,
                otlp_endpoint: None,
                otlp_protocol: OtlpProtocol::Grpc,
                sample_rate,
                parent_based: true,
                console_exporter: false,
                signals: OtlpSignals::default(),
            },
            logging: LoggingConfig {
                format,
                level: level.to_owned(),
                file_enabled,
                file_path: PathBuf::new(),
                otlp_enabled: false,
            },
            metrics: MetricsConfig {
                enabled: telemetry_on,
                otlp_enabled: false,
                otlp_interval,
                endpoint: crate::metrics::DEFAULT_ENDPOINT.to_owned(),
                listen: crate::metrics::DEFAULT_LISTEN,
                series_cap: crate::metrics::DEFAULT_SERIES_CAP,
                allow_from: Vec::new(),
                bearer_token: None,
            },
            http: HttpConfig {
                access_log: true,
                exclude_paths: crate::http::DEFAULT_EXCLUDE_PATHS
                    .iter()
                    .map(|path| (*path).to_owned())
                    .collect(),
            },
            db: DbConfig {
                n_plus_one: NPlusOneConfig {
                    threshold: 5,
                    min_duration,
                    allowlist: Vec::new(),
                    mode: NPlusOneMode::Warn,
                },
                capture_parameters: false,
            },
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
