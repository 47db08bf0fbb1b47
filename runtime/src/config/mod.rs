//! Configuration: profiles, `o11y.toml`, `O11Y_*`/`OTEL_*` environment,
//! the in-code builder, validation and defaults.
//!
//! Every value is resolved once, at `init()`, in this order (later wins):
//! profile defaults < `o11y.toml` < environment < [`ConfigBuilder`].
//! A bad value fails with a [`ConfigError`] naming the key, the value, where
//! it came from and what is allowed; nothing falls back silently.
//!
//! # Keys
//!
//! One table, [`KNOWN_KEYS`], drives the file reader, the environment
//! reader, the did-you-mean suggestions and this list (a unit test checks
//! they agree):
//!
//! | `o11y.toml` key            | environment variable           | standard variable (lower precedence) |
//! |----------------------------|--------------------------------|--------------------------------------|
//! | `profile`                  | `O11Y_PROFILE`                 |                                      |
//! | `resource_attributes`      | `O11Y_RESOURCE_ATTRIBUTES`     | `OTEL_RESOURCE_ATTRIBUTES`           |
//! | `service_name`             | `O11Y_SERVICE_NAME`            | `OTEL_SERVICE_NAME`                  |
//! | `service_version`          | `O11Y_SERVICE_VERSION`         |                                      |
//! | `shutdown_timeout`         | `O11Y_SHUTDOWN_TIMEOUT`        |                                      |
//! | `tracing.enabled`          | `O11Y_TRACING_ENABLED`         | `OTEL_SDK_DISABLED`                  |
//! | `tracing.otlp_endpoint`    | `O11Y_TRACING_OTLP_ENDPOINT`   | `OTEL_EXPORTER_OTLP_ENDPOINT`        |
//! | `tracing.otlp_protocol`    | `O11Y_TRACING_OTLP_PROTOCOL`   | `OTEL_EXPORTER_OTLP_PROTOCOL`        |
//! | `tracing.sample_rate`      | `O11Y_TRACING_SAMPLE_RATE`     | `OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG` |
//! | `tracing.parent_based`     | `O11Y_TRACING_PARENT_BASED`    | `OTEL_TRACES_SAMPLER`                |
//! | `tracing.console_exporter` | `O11Y_TRACING_CONSOLE_EXPORTER`|                                      |
//! | `logging.format`           | `O11Y_LOGGING_FORMAT`          |                                      |
//! | `logging.level`            | `O11Y_LOGGING_LEVEL`           | `RUST_LOG`                           |
//! | `logging.file_enabled`     | `O11Y_LOGGING_FILE_ENABLED`    |                                      |
//! | `logging.file_path`        | `O11Y_LOGGING_FILE_PATH`       |                                      |
//! | `logging.otlp_enabled`     | `O11Y_LOGGING_OTLP_ENABLED`    | `OTEL_SDK_DISABLED`                  |
//! | `metrics.enabled`          | `O11Y_METRICS_ENABLED`         |                                      |
//! | `metrics.otlp_enabled`     | `O11Y_METRICS_OTLP_ENABLED`    | `OTEL_SDK_DISABLED`                  |
//! | `metrics.otlp_interval`    | `O11Y_METRICS_OTLP_INTERVAL`   |                                      |
//! | `metrics.endpoint`         | `O11Y_METRICS_ENDPOINT`        |                                      |
//! | `metrics.listen`           | `O11Y_METRICS_LISTEN`          |                                      |
//! | `metrics.series_cap`       | `O11Y_METRICS_SERIES_CAP`      |                                      |
//! | `metrics.allow_from`       | `O11Y_METRICS_ALLOW_FROM`      |                                      |
//! | `metrics.bearer_token`     | `O11Y_METRICS_BEARER_TOKEN`    |                                      |
//! | `http.access_log`          | `O11Y_HTTP_ACCESS_LOG`         |                                      |
//! | `http.exclude_paths`       | `O11Y_HTTP_EXCLUDE_PATHS`      |                                      |
//! | `db.n_plus_one.threshold`  | `O11Y_DB_N_PLUS_ONE_THRESHOLD` |                                      |
//! | `db.n_plus_one.min_duration` | `O11Y_DB_N_PLUS_ONE_MIN_DURATION` |                                |
//! | `db.n_plus_one.allowlist`  | `O11Y_DB_N_PLUS_ONE_ALLOWLIST` |                                      |
//! | `db.n_plus_one.mode`       | `O11Y_DB_N_PLUS_ONE_MODE`      |                                      |
//! | `db.capture_parameters`    | `O11Y_DB_CAPTURE_PARAMETERS`   |                                      |
//!
//! Also read: `O11Y_CONFIG` (the config file; default `./o11y.toml` when it
//! exists), and `XDG_STATE_HOME` / `HOME` for the default log file path.
//!
//! Value syntax, the same in the environment and in `o11y.toml` strings:
//! booleans `true/false/1/0/yes/no/on/off` (any case); durations `"5s"`,
//! `"250ms"` (humantime) or a whole number of milliseconds; resource
//! attributes `k=v,k2=v2` with percent-encoded values; networks
//! (`metrics.allow_from`) `127.0.0.1/32,10.0.0.0/8`, where a bare address
//! means that one address (/32 or /128); listen addresses an IP and a port
//! (`127.0.0.1:9464`, `[::1]:9464`); N+1 allowlists
//! (`db.n_plus_one.allowlist`) patterns separated by `;`, since statements
//! contain commas; the N+1 mode `warn`, `raise` or `off`. In `o11y.toml`,
//! native TOML booleans,
//! numbers (`sample_rate`), integers (`series_cap`; milliseconds for
//! `shutdown_timeout` and `otlp_interval`), arrays of strings (`allow_from`,
//! `exclude_paths`)
//! and a `[resource_attributes]` table of strings work too. Empty
//! environment values count as unset.
//!
//! The metrics endpoint: [`serve`](crate::metrics::serve) /
//! [`serve_configured`](crate::metrics::serve_configured) (binding
//! `metrics.listen`) and the axum routes answer `GET <metrics.endpoint>`.
//! With `metrics.allow_from` set, only clients in those networks may scrape
//! (others get 403; an empty list, the default, allows every client, and
//! `0.0.0.0/0,::/0` says so explicitly, e.g. to override a file's list from
//! the environment); with `metrics.bearer_token` set, a scrape must send
//! `Authorization: Bearer <token>` (else 401). The token is never printed:
//! `Debug` output and error messages show `***`.
//!
//! The HTTP server layer (`o11y::http::layer()`, feature `axum`) leaves the
//! paths of `http.exclude_paths` alone (exact matches; default `/metrics`,
//! `/health`, `/healthz`, `/ready`, `/favicon.ico`; an empty array in
//! `o11y.toml` observes every path), and writes one `request_finished` log
//! line per request unless `http.access_log` is false.
//!
//! Standard variables, each below its `O11Y_*` twin:
//! - `OTEL_RESOURCE_ATTRIBUTES`: its `service.name` / `service.version`
//!   set the service name / version (`OTEL_SERVICE_NAME` wins over them);
//! - `OTEL_TRACES_SAMPLER`: `always_on` / `always_off` (rate 1 / 0),
//!   `traceidratio` (rate from `OTEL_TRACES_SAMPLER_ARG`, or the rate
//!   configured so far), each also as `parentbased_*`, which sets
//!   `tracing.parent_based`;
//! - `OTEL_SDK_DISABLED=true` (any case): tracing off, no OTLP export of
//!   logs or metrics, whatever any other source says (the operator's master
//!   switch). Any other value is false, by the specification's rule for
//!   its booleans (a value other than `false` is said so on stderr);
//! - `OTEL_EXPORTER_OTLP_PROTOCOL`: `grpc` or `http/protobuf`;
//! - `OTEL_EXPORTER_OTLP_{TRACES,METRICS,LOGS}_ENDPOINT` and `_PROTOCOL`:
//!   one signal's own destination. Its endpoint is used as written (for
//!   HTTP, the whole URL: nothing is appended), while the general endpoint
//!   gets `/v1/traces`, `/v1/metrics` or `/v1/logs` for HTTP; it wins over
//!   `tracing.otlp_endpoint`, whatever set that (see
//!   [`TracingConfig::otlp_target`]). [`ConfigBuilder::otlp_signal_endpoint`]
//!   sets one in code.
//!
//! The profile is [`ConfigBuilder::profile`], else `O11Y_PROFILE`, else
//! `profile` in the file, else [`Profile::compiled_default`]; the defaults of
//! each profile are listed on [`Profile`].
//!
//! An `o11y.toml`:
//!
//! ```toml
//! profile = "prod"
//! service_name = "checkout"
//! shutdown_timeout = "10s"
//!
//! [resource_attributes]
//! team = "payments"
//!
//! [tracing]
//! otlp_endpoint = "http://localhost:4317"
//! sample_rate = 0.1
//!
//! [logging]
//! level = "info,sqlx=warn"
//!
//! [metrics]
//! listen = "0.0.0.0:9464"
//! allow_from = ["10.0.0.0/8", "127.0.0.1"]
//!
//! [db.n_plus_one]
//! threshold = 5
//! min_duration = "50ms"
//! allowlist = ["warm_cache", "SELECT * FROM flags WHERE name = ?"]
//! ```
//!
//! The `[db]` keys steer the N+1 detector and query spans: see
//! [`crate::db`].

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use ipnet::IpNet;

mod builder;
mod env;
mod error;
mod file;
mod keys;
mod profile;
mod value;

pub use builder::ConfigBuilder;
pub use error::{ConfigError, Origin};
pub use keys::{KNOWN_KEYS, KnownKey};
pub use profile::{ParseProfileError, Profile};
pub(crate) use value::without_credentials;

/// The fully resolved and validated configuration `init()` runs with.
///
/// Obtain one with [`Config::load`] (files and environment) or
/// [`Config::builder`] (the same, plus overrides in code).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Config {
    /// The profile the defaults came from.
    pub profile: Profile,
    /// `service.name`; `OTEL_SERVICE_NAME` too. Defaults to the executable's name.
    pub service_name: String,
    /// `service.version`, when known.
    pub service_version: Option<String>,
    /// Extra resource attributes; `OTEL_RESOURCE_ATTRIBUTES` too.
    pub resource_attributes: BTreeMap<String, String>,
    /// How long dropping the init guard may wait for exporters to flush.
    pub shutdown_timeout: Duration,
    /// Spans and their export.
    pub tracing: TracingConfig,
    /// Log lines: format, level, sinks.
    pub logging: LoggingConfig,
    /// Metrics.
    pub metrics: MetricsConfig,
    /// The HTTP server layer.
    pub http: HttpConfig,
    /// Database queries: N+1 detection, query text in spans.
    pub db: DbConfig,
}

/// The `[db]` section.
///
/// ```
/// let config = o11y_runtime::Config::builder()
///     .no_config_file()
///     .env_vars([("O11Y_DB_N_PLUS_ONE_ALLOWLIST", "warm_cache;SELECT a, b FROM flags")])
///     .profile(o11y_runtime::config::Profile::Prod)
///     .build()?;
/// assert_eq!(config.db.n_plus_one.threshold, 5);
/// assert_eq!(config.db.n_plus_one.min_duration, std::time::Duration::from_millis(50));
/// assert_eq!(config.db.n_plus_one.allowlist, ["warm_cache", "SELECT a, b FROM flags"]);
/// assert!(!config.db.capture_parameters);
/// # Ok::<(), o11y_runtime::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct DbConfig {
    /// The N+1 detector (`[db.n_plus_one]`).
    pub n_plus_one: NPlusOneConfig,
    /// Query spans carry the statement as written (literal values included)
    /// instead of its fingerprint. Off by default: values can be personal data.
    pub capture_parameters: bool,
}

/// The `[db.n_plus_one]` section: when repeated queries are an N+1 (see
/// [`DbConfig`] for an example).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct NPlusOneConfig {
    /// Queries of one fingerprint within one scope that make an N+1 (≥ 2).
    pub threshold: u32,
    /// The least wall time they must cover for a report: the union of their
    /// intervals, so that queries run concurrently count once.
    pub min_duration: Duration,
    /// Scope names and statements (`*` matches anything) never reported.
    pub allowlist: Vec<String>,
    /// What a detection does.
    pub mode: NPlusOneMode,
}

/// What an N+1 detection does (`db.n_plus_one.mode`).
///
/// ```
/// use o11y_runtime::config::NPlusOneMode;
/// assert_eq!(NPlusOneMode::Raise.as_str(), "raise");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NPlusOneMode {
    /// No detection.
    Off,
    /// Log a `n_plus_one_detected` warning, mark the scope's span, count
    /// `db_n_plus_one_total`.
    Warn,
    /// As `Warn`, then panic with the report when the scope ends (unless it
    /// is already unwinding): for test suites.
    Raise,
}

impl NPlusOneMode {
    /// `off`, `warn` or `raise`, as written in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            NPlusOneMode::Off => "off",
            NPlusOneMode::Warn => "warn",
            NPlusOneMode::Raise => "raise",
        }
    }
}

/// The `[tracing]` section.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TracingConfig {
    /// Spans are created and, with an endpoint, exported. `OTEL_SDK_DISABLED=true` turns it off.
    pub enabled: bool,
    /// Where spans go; `OTEL_EXPORTER_OTLP_ENDPOINT` too. `None`: spans exist for
    /// log correlation only and nothing is sent.
    pub otlp_endpoint: Option<String>,
    /// gRPC or HTTP/protobuf.
    pub otlp_protocol: OtlpProtocol,
    /// Head sampling ratio for root spans, 0.0–1.0.
    pub sample_rate: f64,
    /// Children follow their parent's (local or remote) decision.
    pub parent_based: bool,
    /// Also print finished spans to stderr (dev aid).
    pub console_exporter: bool,
    /// Each signal's own endpoint and protocol, when set
    /// (`OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT`, `_PROTOCOL`): see
    /// [`TracingConfig::otlp_target`].
    pub signals: OtlpSignals,
}

impl TracingConfig {
    /// Where `signal` is exported over OTLP, by the OpenTelemetry rules: the
    /// signal's own endpoint, used as written, else
    /// [`otlp_endpoint`](Self::otlp_endpoint) with `/v1/<signal>` appended
    /// for HTTP/protobuf; over the signal's own protocol, else
    /// [`otlp_protocol`](Self::otlp_protocol). `None` when neither endpoint
    /// is set.
    ///
    /// ```
    /// use o11y_runtime::config::{Config, OtlpProtocol, OtlpSignal};
    /// let config = Config::builder()
    ///     .no_config_file()
    ///     .env_vars([
    ///         ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"),
    ///         ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
    ///         ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "http://logs.example.com/ingest"),
    ///     ])
    ///     .build()?;
    /// let traces = config.tracing.otlp_target(OtlpSignal::Traces).unwrap();
    /// assert_eq!(traces.url, "http://collector:4318/v1/traces");
    /// let logs = config.tracing.otlp_target(OtlpSignal::Logs).unwrap();
    /// assert_eq!(logs.url, "http://logs.example.com/ingest");
    /// assert_eq!(logs.protocol, OtlpProtocol::Http);
    /// # Ok::<(), o11y_runtime::config::ConfigError>(())
    /// ```
    pub fn otlp_target(&self, signal: OtlpSignal) -> Option<OtlpTarget> {
        let own = self.signals.of(signal);
        let protocol = own.protocol.unwrap_or(self.otlp_protocol);
        let url = match (&own.endpoint, &self.otlp_endpoint) {
            (Some(url), _) => url.clone(),
            (None, Some(base)) if protocol == OtlpProtocol::Http => {
                format!("{}{}", base.trim_end_matches('/'), signal.http_path())
            }
            (None, Some(base)) => base.clone(),
            (None, None) => return None,
        };
        Some(OtlpTarget { url, protocol })
    }
}

/// A kind of telemetry o11y exports over OTLP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OtlpSignal {
    /// Spans.
    Traces,
    /// Metric data points (`metrics.otlp_enabled`).
    Metrics,
    /// Log records (`logging.otlp_enabled`).
    Logs,
}

impl OtlpSignal {
    /// Every signal.
    pub const ALL: [OtlpSignal; 3] = [OtlpSignal::Traces, OtlpSignal::Metrics, OtlpSignal::Logs];

    /// `traces`, `metrics` or `logs`.
    pub fn as_str(self) -> &'static str {
        match self {
            OtlpSignal::Traces => "traces",
            OtlpSignal::Metrics => "metrics",
            OtlpSignal::Logs => "logs",
        }
    }

    /// The path OTLP/HTTP appends to the general endpoint: `/v1/traces`.
    pub fn http_path(self) -> &'static str {
        match self {
            OtlpSignal::Traces => "/v1/traces",
            OtlpSignal::Metrics => "/v1/metrics",
            OtlpSignal::Logs => "/v1/logs",
        }
    }
}

impl fmt::Display for OtlpSignal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Each signal's own OTLP destination, where one is set.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct OtlpSignals {
    /// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` / `_PROTOCOL`.
    pub traces: SignalDestination,
    /// `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` / `_PROTOCOL`.
    pub metrics: SignalDestination,
    /// `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT` / `_PROTOCOL`.
    pub logs: SignalDestination,
}

impl OtlpSignals {
    /// The destination of `signal`.
    pub fn of(&self, signal: OtlpSignal) -> &SignalDestination {
        match signal {
            OtlpSignal::Traces => &self.traces,
            OtlpSignal::Metrics => &self.metrics,
            OtlpSignal::Logs => &self.logs,
        }
    }

    pub(crate) fn of_mut(&mut self, signal: OtlpSignal) -> &mut SignalDestination {
        match signal {
            OtlpSignal::Traces => &mut self.traces,
            OtlpSignal::Metrics => &mut self.metrics,
            OtlpSignal::Logs => &mut self.logs,
        }
    }
}

/// One signal's own endpoint and protocol; unset parts come from
/// [`TracingConfig`]'s.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct SignalDestination {
    /// The whole URL (for HTTP, with its path: nothing is appended).
    pub endpoint: Option<String>,
    /// gRPC or HTTP/protobuf.
    pub protocol: Option<OtlpProtocol>,
}

/// Where one signal is exported: see [`TracingConfig::otlp_target`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct OtlpTarget {
    /// For gRPC, the collector's address; for HTTP, the URL requests are
    /// posted to.
    pub url: String,
    /// gRPC or HTTP/protobuf.
    pub protocol: OtlpProtocol,
}

/// The `[logging]` section.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct LoggingConfig {
    /// Console (human, colourised) or JSON lines.
    pub format: LogFormat,
    /// A filter in `RUST_LOG` syntax, e.g. `info,sqlx=warn`.
    pub level: String,
    /// Also write JSON lines to [`LoggingConfig::file_path`], in batches
    /// while `init()`'s guard lives: a line is written at most 100 ms after
    /// it was logged, a warning or an error at once.
    pub file_enabled: bool,
    /// The JSON log file; resolved to
    /// `${XDG_STATE_HOME:-~/.local/state}/o11y/<service>/app.log` when not set.
    pub file_path: PathBuf,
    /// Export log records over OTLP (to the tracing endpoint).
    pub otlp_enabled: bool,
}

/// The `[metrics]` section.
///
/// `Debug` shows the bearer token as `***`.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct MetricsConfig {
    /// Metrics are recorded and exposed.
    pub enabled: bool,
    /// Also push metrics over OTLP (to the tracing endpoint).
    /// `OTEL_SDK_DISABLED=true` turns it off.
    pub otlp_enabled: bool,
    /// How often metrics are pushed over OTLP, 1 s to 1 h.
    pub otlp_interval: Duration,
    /// The path the metrics endpoint answers on, e.g. `/metrics`.
    pub endpoint: String,
    /// The address [`serve_configured`](crate::metrics::serve_configured) binds.
    pub listen: SocketAddr,
    /// The most label sets a labelled metric keeps unless it sets its own
    /// cap; past it, new label sets share one overflow series.
    pub series_cap: usize,
    /// Clients allowed to scrape; empty: every client.
    pub allow_from: Vec<IpNet>,
    /// When set, a scrape must send `Authorization: Bearer <token>`.
    pub bearer_token: Option<String>,
}

impl fmt::Debug for MetricsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let MetricsConfig {
            enabled,
            otlp_enabled,
            otlp_interval,
            endpoint,
            listen,
            series_cap,
            allow_from,
            bearer_token,
        } = self;
        f.debug_struct("MetricsConfig")
            .field("enabled", enabled)
            .field("otlp_enabled", otlp_enabled)
            .field("otlp_interval", otlp_interval)
            .field("endpoint", endpoint)
            .field("listen", listen)
            .field("series_cap", series_cap)
            .field("allow_from", allow_from)
            .field("bearer_token", &bearer_token.as_ref().map(|_| "***"))
            .finish()
    }
}

/// The `[http]` section: what the HTTP server layer
/// (`o11y::http::layer()`, feature `axum`) records.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct HttpConfig {
    /// One `request_finished` log line per request (status, duration).
    pub access_log: bool,
    /// Request paths left alone: no span, no log line, no metrics. Exact
    /// matches of the request's path.
    pub exclude_paths: Vec<String>,
}

/// The wire protocol of the OTLP exporters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtlpProtocol {
    /// OTLP over gRPC (default port 4317).
    Grpc,
    /// OTLP over HTTP with protobuf bodies (default port 4318).
    Http,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable, colourised when the output is a terminal.
    Console,
    /// One JSON object per line.
    Json,
}

impl Config {
    /// Resolves the configuration from profile defaults, `o11y.toml` and the
    /// environment, with no overrides in code.
    pub fn load() -> Result<Config, ConfigError> {
        ConfigBuilder::default().build()
    }

    /// Starts a builder whose settings win over every other source.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }
}
