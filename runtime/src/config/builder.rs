//! Resolution: [`ConfigBuilder`], the in-code source, and layering every
//! source over the profile defaults into a validated [`Config`], with the
//! defaults that depend on the final values (service name, log file path).
//!
//! Sources, later wins: profile defaults < `o11y.toml` < environment <
//! builder. Every value is validated where it is read, even one a later
//! source overrides: a typo must not hide behind an override that happens to
//! be set today.
//!
//! The keys, their variables and value syntax are listed in the
//! [`config`](super) module docs, from [`KNOWN_KEYS`](super::KNOWN_KEYS).

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::env::{Env, env_entries, sdk_disabled_entries};
use super::file::{FileChoice, file_entries, locate_file};
use super::value::{Entry, Setting, check};
use super::{
    Config, ConfigError, IpNet, LogFormat, NPlusOneMode, Origin, OtlpProtocol, OtlpSignal, Profile,
};

// ---------------------------------------------------------------------------
// Layering
// ---------------------------------------------------------------------------

/// The configuration being assembled. The service name and log file path
/// stay open until every source is applied: the default path depends on the
/// final name.
struct Draft {
    config: Config,
    service_name: Option<String>,
    file_path: Option<PathBuf>,
}

impl Draft {
    fn new(profile: Profile) -> Draft {
        Draft {
            config: profile.base_config(),
            service_name: None,
            file_path: None,
        }
    }

    fn accept(&mut self, entry: Entry) -> Result<(), ConfigError> {
        let Entry {
            setting,
            raw,
            origin,
        } = entry;
        if let Err(refusal) = check(&setting) {
            return Err(refusal.into_error(setting.key(), &raw, origin));
        }
        match setting {
            Setting::ResourceAttributes(pairs) => self.accept_attributes(pairs, &origin),
            other => {
                self.set(other);
                Ok(())
            }
        }
    }

    /// `service.name` and `service.version` are the service name and
    /// version, not extra attributes: they feed those fields (and their
    /// validation) so there is one place each is decided.
    fn accept_attributes(
        &mut self,
        pairs: Vec<(String, String)>,
        origin: &Origin,
    ) -> Result<(), ConfigError> {
        for (name, value) in pairs {
            let setting = match name.as_str() {
                "service.name" => Setting::ServiceName(value.clone()),
                "service.version" => Setting::ServiceVersion(value.clone()),
                _ => {
                    self.config.resource_attributes.insert(name, value);
                    continue;
                }
            };
            self.accept(Entry {
                setting,
                raw: value,
                origin: origin.clone(),
            })?;
        }
        Ok(())
    }

    fn set(&mut self, setting: Setting) {
        let c = &mut self.config;
        match setting {
            // Chosen before layering (the defaults depend on it).
            Setting::Profile(_) => {}
            Setting::ResourceAttributes(pairs) => c.resource_attributes.extend(pairs),
            Setting::ServiceName(v) => self.service_name = Some(v),
            Setting::ServiceVersion(v) => c.service_version = Some(v),
            Setting::ShutdownTimeout(v) => c.shutdown_timeout = v,
            Setting::TracingEnabled(v) => c.tracing.enabled = v,
            Setting::OtlpEndpoint(v) => c.tracing.otlp_endpoint = Some(v),
            Setting::OtlpProtocol(v) => c.tracing.otlp_protocol = v,
            Setting::SignalEndpoint(signal, v) => {
                c.tracing.signals.of_mut(signal).endpoint = Some(v)
            }
            Setting::SignalProtocol(signal, v) => {
                c.tracing.signals.of_mut(signal).protocol = Some(v)
            }
            Setting::SampleRate(v) => c.tracing.sample_rate = v,
            Setting::ParentBased(v) => c.tracing.parent_based = v,
            Setting::ConsoleExporter(v) => c.tracing.console_exporter = v,
            Setting::LogFormat(v) => c.logging.format = v,
            Setting::LogLevel(v) => c.logging.level = v,
            Setting::LogFileEnabled(v) => c.logging.file_enabled = v,
            Setting::LogFilePath(v) => self.file_path = Some(v),
            Setting::LogOtlpEnabled(v) => c.logging.otlp_enabled = v,
            Setting::MetricsEnabled(v) => c.metrics.enabled = v,
            Setting::MetricsOtlpEnabled(v) => c.metrics.otlp_enabled = v,
            Setting::MetricsEndpoint(v) => c.metrics.endpoint = v,
            Setting::MetricsListen(v) => c.metrics.listen = v,
            Setting::MetricsSeriesCap(v) => c.metrics.series_cap = v,
            Setting::MetricsAllowFrom(v) => c.metrics.allow_from = v,
            Setting::MetricsBearerToken(v) => c.metrics.bearer_token = Some(v),
            Setting::MetricsOtlpInterval(v) => c.metrics.otlp_interval = v,
            Setting::HttpAccessLog(v) => c.http.access_log = v,
            Setting::HttpExcludePaths(v) => c.http.exclude_paths = v,
            Setting::DbNPlusOneThreshold(v) => c.db.n_plus_one.threshold = v,
            Setting::DbNPlusOneMinDuration(v) => c.db.n_plus_one.min_duration = v,
            Setting::DbNPlusOneAllowlist(v) => c.db.n_plus_one.allowlist = v,
            Setting::DbNPlusOneMode(v) => c.db.n_plus_one.mode = v,
            Setting::DbCaptureParameters(v) => c.db.capture_parameters = v,
        }
    }

    fn finish(self, env: &Env) -> Config {
        let mut config = self.config;
        config.service_name = self.service_name.unwrap_or_else(executable_name);
        config.logging.file_path = self
            .file_path
            .unwrap_or_else(|| default_log_path(env, &config.service_name));
        config
    }
}

/// The service name when none is configured: the executable's file stem.
fn executable_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.file_stem()?.to_str().map(str::to_owned))
        .filter(|stem| !stem.trim().is_empty())
        .unwrap_or_else(|| "unknown_service".to_owned())
}

/// `${XDG_STATE_HOME:-$HOME/.local/state}/o11y/<service>/app.log`, falling
/// back to the temporary directory when neither variable is usable.
fn default_log_path(env: &Env, service_name: &str) -> PathBuf {
    // The XDG spec says a relative XDG_STATE_HOME is invalid and ignored.
    let state_home = env
        .get("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            env.get("HOME")
                .map(|h| Path::new(h).join(".local").join("state"))
        })
        .unwrap_or_else(std::env::temp_dir);
    state_home
        .join("o11y")
        .join(path_component(service_name))
        .join("app.log")
}

/// The service name made safe as one path component: a name like
/// `../etc` or `a/b` must not move the log file out of its directory.
fn path_component(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if safe.chars().all(|c| c == '.') {
        safe.replace('.', "_")
    } else {
        safe
    }
}

// ---------------------------------------------------------------------------
// The builder
// ---------------------------------------------------------------------------

/// Resolves a [`Config`]: profile defaults < `o11y.toml` < environment <
/// the settings made on this builder. See the [`config`](crate::config) module for keys
/// and syntax.
///
/// ```no_run
/// # use o11y_runtime::config::{Config, Profile};
/// let config = Config::builder()
///     .profile(Profile::Prod)
///     .service_name("checkout")
///     .sample_rate(0.1)
///     .build()?;
/// # Ok::<(), o11y_runtime::config::ConfigError>(())
/// ```
#[derive(Clone, Default)]
pub struct ConfigBuilder {
    settings: Vec<Setting>,
    file: FileChoice,
    env: Option<Vec<(String, String)>>,
}

/// Settings as their values are written (a secret as `***`), and variables
/// given in code by name only: any of their values may be a secret.
impl fmt::Debug for ConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let settings: Vec<String> = self
            .settings
            .iter()
            .map(|setting| format!("{}={setting}", setting.key().def().name))
            .collect();
        let env: Option<Vec<&str>> = self
            .env
            .as_ref()
            .map(|vars| vars.iter().map(|(name, _)| name.as_str()).collect());
        f.debug_struct("ConfigBuilder")
            .field("settings", &settings)
            .field("file", &self.file)
            .field("env_vars", &env)
            .finish()
    }
}

impl ConfigBuilder {
    fn with(mut self, setting: Setting) -> Self {
        self.settings.push(setting);
        self
    }

    /// Reads this file instead of `O11Y_CONFIG` / `./o11y.toml`; it must exist.
    #[must_use]
    pub fn config_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.file = FileChoice::Path(path.into());
        self
    }

    /// Reads no config file at all, whatever `O11Y_CONFIG` says.
    #[must_use]
    pub fn no_config_file(mut self) -> Self {
        self.file = FileChoice::None;
        self
    }

    /// Uses these variables as the whole environment instead of the
    /// process's (for tests and embedding).
    #[must_use]
    pub fn env_vars<I, K, V>(mut self, vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let vars = vars.into_iter().map(|(k, v)| (k.into(), v.into()));
        self.env = Some(vars.collect());
        self
    }

    /// The profile whose defaults everything else is layered on.
    #[must_use]
    pub fn profile(self, profile: Profile) -> Self {
        self.with(Setting::Profile(profile))
    }

    /// `service_name`.
    #[must_use]
    pub fn service_name(self, name: impl Into<String>) -> Self {
        self.with(Setting::ServiceName(name.into()))
    }

    /// `service_version`.
    #[must_use]
    pub fn service_version(self, version: impl Into<String>) -> Self {
        self.with(Setting::ServiceVersion(version.into()))
    }

    /// Adds one resource attribute (`service.name` / `service.version` set
    /// the service name / version).
    #[must_use]
    pub fn resource_attribute(self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.with(Setting::ResourceAttributes(vec![(
            name.into(),
            value.into(),
        )]))
    }

    /// `shutdown_timeout`, above 0 and at most 10 minutes.
    #[must_use]
    pub fn shutdown_timeout(self, timeout: Duration) -> Self {
        self.with(Setting::ShutdownTimeout(timeout))
    }

    /// `tracing.enabled`.
    #[must_use]
    pub fn tracing_enabled(self, enabled: bool) -> Self {
        self.with(Setting::TracingEnabled(enabled))
    }

    /// `tracing.otlp_endpoint`, an `http://` or (with the `tls` feature)
    /// `https://` URL.
    #[must_use]
    pub fn otlp_endpoint(self, url: impl Into<String>) -> Self {
        self.with(Setting::OtlpEndpoint(url.into()))
    }

    /// `tracing.otlp_protocol`.
    #[must_use]
    pub fn otlp_protocol(self, protocol: OtlpProtocol) -> Self {
        self.with(Setting::OtlpProtocol(protocol))
    }

    /// One signal's own endpoint, as `OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT`
    /// sets it: an `http://` or (with the `tls` feature) `https://` URL used
    /// as written (see
    /// [`TracingConfig::otlp_target`](super::TracingConfig::otlp_target)).
    #[must_use]
    pub fn otlp_signal_endpoint(self, signal: OtlpSignal, url: impl Into<String>) -> Self {
        self.with(Setting::SignalEndpoint(signal, url.into()))
    }

    /// One signal's own protocol, as `OTEL_EXPORTER_OTLP_<SIGNAL>_PROTOCOL`
    /// sets it.
    #[must_use]
    pub fn otlp_signal_protocol(self, signal: OtlpSignal, protocol: OtlpProtocol) -> Self {
        self.with(Setting::SignalProtocol(signal, protocol))
    }

    /// `tracing.sample_rate`, from 0.0 to 1.0.
    #[must_use]
    pub fn sample_rate(self, rate: f64) -> Self {
        self.with(Setting::SampleRate(rate))
    }

    /// `tracing.parent_based`.
    #[must_use]
    pub fn parent_based(self, parent_based: bool) -> Self {
        self.with(Setting::ParentBased(parent_based))
    }

    /// `tracing.console_exporter`.
    #[must_use]
    pub fn console_exporter(self, enabled: bool) -> Self {
        self.with(Setting::ConsoleExporter(enabled))
    }

    /// `logging.format`.
    #[must_use]
    pub fn log_format(self, format: LogFormat) -> Self {
        self.with(Setting::LogFormat(format))
    }

    /// `logging.level`, in `RUST_LOG` syntax.
    #[must_use]
    pub fn log_level(self, filter: impl Into<String>) -> Self {
        self.with(Setting::LogLevel(filter.into()))
    }

    /// `logging.file_enabled`.
    #[must_use]
    pub fn log_file_enabled(self, enabled: bool) -> Self {
        self.with(Setting::LogFileEnabled(enabled))
    }

    /// `logging.file_path`.
    #[must_use]
    pub fn log_file_path(self, path: impl Into<PathBuf>) -> Self {
        self.with(Setting::LogFilePath(path.into()))
    }

    /// `logging.otlp_enabled`.
    #[must_use]
    pub fn log_otlp_enabled(self, enabled: bool) -> Self {
        self.with(Setting::LogOtlpEnabled(enabled))
    }

    /// `metrics.enabled`.
    #[must_use]
    pub fn metrics_enabled(self, enabled: bool) -> Self {
        self.with(Setting::MetricsEnabled(enabled))
    }

    /// `metrics.otlp_enabled`.
    #[must_use]
    pub fn metrics_otlp_enabled(self, enabled: bool) -> Self {
        self.with(Setting::MetricsOtlpEnabled(enabled))
    }

    /// `metrics.otlp_interval`, from 1 s to 1 h.
    #[must_use]
    pub fn metrics_otlp_interval(self, interval: Duration) -> Self {
        self.with(Setting::MetricsOtlpInterval(interval))
    }

    /// `metrics.endpoint`, a path like `/metrics`.
    #[must_use]
    pub fn metrics_endpoint(self, path: impl Into<String>) -> Self {
        self.with(Setting::MetricsEndpoint(path.into()))
    }

    /// `metrics.listen`, the address [`serve_configured`](crate::metrics::serve_configured) binds.
    #[must_use]
    pub fn metrics_listen(self, addr: SocketAddr) -> Self {
        self.with(Setting::MetricsListen(addr))
    }

    /// `metrics.series_cap`, at least 1.
    #[must_use]
    pub fn metrics_series_cap(self, cap: usize) -> Self {
        self.with(Setting::MetricsSeriesCap(cap))
    }

    /// `metrics.allow_from`: the networks allowed to scrape (replaces what
    /// other sources set; empty: every client).
    #[must_use]
    pub fn metrics_allow_from(self, nets: impl IntoIterator<Item = IpNet>) -> Self {
        self.with(Setting::MetricsAllowFrom(nets.into_iter().collect()))
    }

    /// `metrics.bearer_token`: scrapes must send `Authorization: Bearer <token>`.
    #[must_use]
    pub fn metrics_bearer_token(self, token: impl Into<String>) -> Self {
        self.with(Setting::MetricsBearerToken(token.into()))
    }

    /// `http.access_log`: one `request_finished` log line per request.
    #[must_use]
    pub fn http_access_log(self, enabled: bool) -> Self {
        self.with(Setting::HttpAccessLog(enabled))
    }

    /// `http.exclude_paths`: request paths the HTTP layer leaves alone
    /// (replaces what other sources set; empty: every path is observed).
    #[must_use]
    pub fn http_exclude_paths<I, P>(self, paths: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: Into<String>,
    {
        self.with(Setting::HttpExcludePaths(
            paths.into_iter().map(Into::into).collect(),
        ))
    }

    /// `db.n_plus_one.threshold`: how many queries of one shape within one
    /// scope make an N+1 (at least 2; default 5).
    ///
    /// ```
    /// use std::time::Duration;
    /// use o11y_runtime::config::{Config, NPlusOneMode};
    ///
    /// let config = Config::builder()
    ///     .db_n_plus_one_threshold(3)
    ///     .db_n_plus_one_min_duration(Duration::ZERO)
    ///     .db_n_plus_one_allowlist(["warm_cache", "SELECT * FROM flags WHERE name = ?"])
    ///     .db_n_plus_one_mode(NPlusOneMode::Raise)
    ///     .db_capture_parameters(false)
    ///     .build()?;
    /// assert_eq!(config.db.n_plus_one.threshold, 3);
    /// # Ok::<(), o11y_runtime::ConfigError>(())
    /// ```
    #[must_use]
    pub fn db_n_plus_one_threshold(self, threshold: u32) -> Self {
        self.with(Setting::DbNPlusOneThreshold(threshold))
    }

    /// `db.n_plus_one.min_duration`: an N+1 is reported only when its
    /// queries took at least this long in total (default 0 in `dev` and
    /// `test`, 50 ms in `prod`).
    #[must_use]
    pub fn db_n_plus_one_min_duration(self, min: Duration) -> Self {
        self.with(Setting::DbNPlusOneMinDuration(min))
    }

    /// `db.n_plus_one.allowlist`: scope names or statements never reported,
    /// `*` matching anything (replaces the list of lower sources).
    #[must_use]
    pub fn db_n_plus_one_allowlist<I, P>(self, patterns: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: Into<String>,
    {
        self.with(Setting::DbNPlusOneAllowlist(
            patterns.into_iter().map(Into::into).collect(),
        ))
    }

    /// `db.n_plus_one.mode`: warn (default), raise (panic when the scope
    /// ends, for test suites) or off.
    #[must_use]
    pub fn db_n_plus_one_mode(self, mode: NPlusOneMode) -> Self {
        self.with(Setting::DbNPlusOneMode(mode))
    }

    /// `db.capture_parameters`: put statements in spans as written, literal
    /// values included, instead of their fingerprint (default false).
    #[must_use]
    pub fn db_capture_parameters(self, capture: bool) -> Self {
        self.with(Setting::DbCaptureParameters(capture))
    }

    /// Resolves and validates the configuration.
    ///
    /// The profile is the builder's, else `O11Y_PROFILE`, else the file's
    /// `profile`, else [`Profile::compiled_default`]. Fails on the first
    /// invalid value or unknown key, in source order (file, environment,
    /// builder).
    pub fn build(self) -> Result<Config, ConfigError> {
        let env = match &self.env {
            Some(pairs) => Env::from_pairs(pairs),
            None => Env::from_process()?,
        };
        let from_file = match locate_file(&self.file, &env) {
            Some(file) => file_entries(file)?,
            None => Vec::new(),
        };
        let from_env = env_entries(&env)?;
        let master_switch = sdk_disabled_entries(&env);
        let from_builder = self.settings.into_iter().map(|setting| Entry {
            raw: setting.to_string(),
            setting,
            origin: Origin::Builder,
        });
        let entries: Vec<Entry> = from_file
            .into_iter()
            .chain(from_env)
            .chain(from_builder)
            .chain(master_switch)
            .collect();

        // The last source to name a profile wins, like for any other key.
        let profile = entries
            .iter()
            .rev()
            .find_map(|e| match e.setting {
                Setting::Profile(p) => Some(p),
                _ => None,
            })
            .unwrap_or_else(Profile::compiled_default);

        let mut draft = Draft::new(profile);
        for entry in entries {
            draft.accept(entry)?;
        }
        Ok(draft.finish(&env))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_names_become_safe_path_components() {
        assert_eq!(path_component("checkout-api"), "checkout-api");
        assert_eq!(path_component("../etc/passwd"), ".._etc_passwd");
        assert_eq!(path_component(".."), "__");
        assert_eq!(path_component("a b/c"), "a_b_c");
    }
}
