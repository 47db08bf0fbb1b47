//! The key table: every configuration key declared once, with its dotted
//! `o11y.toml` name, type and parser, checks, default in each profile,
//! `O11Y_*` variable, the standard variables read below it, what values it
//! accepts, one line of doc and its builder setter. [`declare_keys!`]
//! derives from it the key enum, [`KNOWN_KEYS`], parsing and validation,
//! each profile's defaults, the builder's setters and the key table in the
//! [`config`](super) module docs and `docs/configuration.md` (a test keeps
//! both equal to `markdown_table`'s output, a test-only function, and
//! rewrites them under `O11Y_UPDATE_KEY_TABLES=1`).
//!
//! Also here: the defaults other modules share (the metrics endpoint and
//! listen address, the series cap, the excluded HTTP paths), the names of
//! the standard variables with handling of their own, the lookups on the
//! table and the did-you-mean suggestions for names that are not in it.
//!
//! Longer than 500 lines because the table has an entry for each of the
//! keys, each a few lines; everything else about a key is derived from it.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use super::operations::{check_quantile_threshold, check_routes, parse_route};
use super::redaction::{check_pattern, parse_pattern};
use super::sentry::check_dsn;
use super::table::{Def, HasDefault, Redact, Scalar, declare_keys};
use super::value::{
    Refusal, check_endpoint, check_filter, check_header_name, check_key_name, check_listed_path,
    check_path, check_token, parse_attributes, parse_backtrace, parse_bool, parse_bytes,
    parse_duration, parse_format, parse_mode, parse_net, parse_number, parse_protocol,
    parse_socket_addr, parse_threshold, parse_whole, redacted, refuse_if,
};
use super::{
    BacktraceMode, Config, ConfigBuilder, IpNet, LogFormat, NPlusOneMode, OtlpProtocol, OtlpSignal,
    Profile, RedactionPattern,
};
use crate::slo::RouteObjective;

/// `metrics.endpoint` by default: the path Prometheus scrapes unless told otherwise.
pub const DEFAULT_METRICS_ENDPOINT: &str = "/metrics";

/// `metrics.listen` by default: loopback, port 9464 (the OpenTelemetry
/// Prometheus exporter's port).
pub const DEFAULT_METRICS_LISTEN: SocketAddr =
    SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 9464);

/// `metrics.series_cap` by default: the series cap of metrics that do not
/// set their own.
pub const DEFAULT_SERIES_CAP: usize = 2000;

/// `http.exclude_paths` by default: the paths the server layer leaves alone
/// unless told otherwise: scrapes, probes and the browser's icon request.
pub const DEFAULT_EXCLUDE_PATHS: &[&str] =
    &["/metrics", "/health", "/healthz", "/ready", "/favicon.ico"];

/// `dev_console.allow_from` by default: loopback clients only.
pub const DEFAULT_DEV_CONSOLE_ALLOW_FROM: &[&str] = &["127.0.0.0/8", "::1/128"];

/// `redaction.replacement` by default: what replaces a redacted value.
pub const DEFAULT_REDACTION_REPLACEMENT: &str = "[REDACTED]";

/// OpenTelemetry's default of the span limits: attributes, events and
/// links a span keeps.
pub const DEFAULT_SPAN_LIMIT: usize = 128;

/// `tracing.tail_max_spans_per_trace` by default: a request with a few
/// hundred queries still fits whole.
pub const DEFAULT_TAIL_MAX_SPANS_PER_TRACE: usize = 1000;

/// `tracing.tail_max_bytes` by default: 32 MiB of held spans, some tens of
/// thousands of them.
pub const DEFAULT_TAIL_MAX_BYTES: usize = 32 << 20;

/// `OTEL_SDK_DISABLED=true`: tracing and every OTLP export off, whatever
/// any other source says.
pub(super) const SDK_DISABLED_VAR: &str = "OTEL_SDK_DISABLED";
/// `OTEL_TRACES_SAMPLER`: `tracing.sample_rate` and `tracing.parent_based` at once.
pub(super) const SAMPLER_VAR: &str = "OTEL_TRACES_SAMPLER";
pub(super) const SAMPLER_ARG_VAR: &str = "OTEL_TRACES_SAMPLER_ARG";
/// One signal's own endpoint, in the order of [`OtlpSignal::ALL`].
pub(super) const SIGNAL_ENDPOINT_VARS: [&str; 3] = [
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
    "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
];
/// One signal's own protocol, in the order of [`OtlpSignal::ALL`].
pub(super) const SIGNAL_PROTOCOL_VARS: [&str; 3] = [
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
    "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL",
];

const EXPECT_BOOL: &str = "true or false (also 1/0, yes/no, on/off)";

/// The longest `shutdown_timeout`: a stuck exporter must not hold a
/// terminating process for longer than orchestrators wait anyway.
const MAX_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10 * 60);
const MAX_N_PLUS_ONE_THRESHOLD: u32 = 1_000_000;
const MAX_N_PLUS_ONE_MIN_DURATION: Duration = Duration::from_secs(60 * 60);
/// The smallest `dev_console.max_bytes`: room for a few traces.
const MIN_DEV_CONSOLE_BYTES: usize = 64 * 1024;
const MIN_OTLP_INTERVAL: Duration = Duration::from_secs(1);
const MAX_OTLP_INTERVAL: Duration = Duration::from_secs(60 * 60);
const EXPECT_SPAN_LIMIT: &str = "a whole number (0 keeps none)";

// The order is the order values of one source are applied in: resource
// attributes come before the service name and version so an explicit name
// wins over `service.name` in the attributes of the same source.
declare_keys! {
    /// `dev`, `prod` or `test`: which defaults apply.
    profile: Profile => Profile {
        env: "O11Y_PROFILE",
        parse: |text| text.parse().map_err(|_| Refusal::plain()),
        expected: Profile::EXPECTED,
        default: [computed "by cargo feature (`profile-test` > `profile-prod` > `profile-dev`), else `dev` in debug builds and `prod` in release builds"],
        // Chosen before layering: the defaults depend on it.
        store: |_, _| {},
        setter: profile(profile),
    }
    /// Extra resource attributes: a table, or `k=v,k2=v2` with percent-encoded values; `service.name` and `service.version` set the service name and version.
    resource_attributes: Vec<(String, String)> => ResourceAttributes {
        env: "O11Y_RESOURCE_ATTRIBUTES",
        alias: "OTEL_RESOURCE_ATTRIBUTES",
        parse: parse_attributes,
        check: |pairs| {
            let unnamed = pairs.iter().any(|(name, _)| name.trim().is_empty());
            refuse_if(unnamed).map_err(|_| Refusal::because("an attribute name is empty"))
        },
        expected: "key=value pairs separated by commas, with percent-encoded values \
                   (in o11y.toml, a table of strings)",
        default: [Vec::new()],
        store: |config, pairs| config.resource_attributes.extend(pairs),
    }
    /// `service.name`.
    service_name: String => ServiceName {
        env: "O11Y_SERVICE_NAME",
        alias: "OTEL_SERVICE_NAME",
        parse: |text| Ok(text.to_owned()),
        check: |name| refuse_if(name.trim().is_empty()),
        expected: "a non-empty name",
        default: [computed "the executable's file stem (else `unknown_service`)"],
        setter: service_name(name: into),
    }
    /// `service.version`.
    service_version: String => ServiceVersion {
        env: "O11Y_SERVICE_VERSION",
        parse: |text| Ok(text.to_owned()),
        check: |version| refuse_if(version.trim().is_empty()),
        expected: "a non-empty version",
        default: [unset],
        setter: service_version(version: into),
    }
    /// How long dropping the init guard may wait for exporters to flush, above 0 and at most 10 minutes.
    shutdown_timeout: Duration => ShutdownTimeout {
        env: "O11Y_SHUTDOWN_TIMEOUT",
        parse: parse_duration,
        check: |timeout| refuse_if(timeout.is_zero() || *timeout > MAX_SHUTDOWN_TIMEOUT),
        expected: "a duration above 0 and at most 10m, like \"5s\" or \"250ms\", \
                   or a whole number of milliseconds",
        default: [Duration::from_secs(5)],
        setter: shutdown_timeout(timeout),
    }
    /// Spans are sampled and exported.
    tracing.enabled: bool => TracingEnabled {
        env: "O11Y_TRACING_ENABLED",
        also: &[SDK_DISABLED_VAR],
        parse: parse_bool,
        expected: EXPECT_BOOL,
        default: [dev: true, prod: true, test: false],
        setter: tracing_enabled(enabled),
    }
    /// The collector's `http://` (or, with the `tls` feature, `https://`) URL; unset: nothing is sent.
    tracing.otlp_endpoint: String => OtlpEndpoint {
        env: "O11Y_TRACING_OTLP_ENDPOINT",
        alias: "OTEL_EXPORTER_OTLP_ENDPOINT",
        also: &SIGNAL_ENDPOINT_VARS,
        // Trimmed as in the environment: `url` would parse " http://…"
        // while the exporters refuse it.
        parse: |text| Ok(text.trim().to_owned()),
        check: |url| check_endpoint(url),
        redact: credentials,
        expected: "an http:// or https:// URL, e.g. http://localhost:4317",
        default: [unset],
        setter: otlp_endpoint(url: into),
    }
    /// The OTLP wire protocol: gRPC or HTTP/protobuf.
    tracing.otlp_protocol: OtlpProtocol => OtlpProtocol {
        env: "O11Y_TRACING_OTLP_PROTOCOL",
        alias: "OTEL_EXPORTER_OTLP_PROTOCOL",
        also: &SIGNAL_PROTOCOL_VARS,
        parse: parse_protocol,
        expected: "grpc or http (also written http/protobuf)",
        default: [OtlpProtocol::Grpc],
        setter: otlp_protocol(protocol),
    }
    /// The share of root traces kept (head sampling), from 0.0 to 1.0.
    tracing.sample_rate: f64 => SampleRate {
        env: "O11Y_TRACING_SAMPLE_RATE",
        also: &[SAMPLER_VAR, SAMPLER_ARG_VAR],
        parse: parse_number,
        check: |rate| refuse_if(!(rate.is_finite() && (0.0..=1.0).contains(rate))),
        expected: "a number from 0.0 to 1.0",
        default: [dev: 1.0, prod: 0.01, test: 1.0],
        setter: sample_rate(rate),
    }
    /// Tail sampling: a trace the head sampler left out is still recorded, held until its local root ends, and exported whole when one of its spans failed (an error status, an `err`, a panic, a 5xx).
    tracing.keep_errors: bool => KeepErrors {
        env: "O11Y_TRACING_KEEP_ERRORS",
        parse: parse_bool,
        expected: EXPECT_BOOL,
        // Where head sampling keeps a few traces only. `dev` keeps every
        // trace by default, where tail rules would only add work and an
        // attribute; `test` gets exactly the traces its sample rate asks for.
        default: [dev: false, prod: true, test: false],
        setter: keep_errors(keep),
    }
    /// Tail sampling: a trace the head sampler left out is still recorded, held until its local root ends, and exported whole when that root took longer than this; `off`: never for its duration.
    tracing.keep_slower_than: Option<Duration> => KeepSlowerThan {
        env: "O11Y_TRACING_KEEP_SLOWER_THAN",
        parse: parse_threshold,
        check: |threshold| refuse_if(threshold.is_some_and(|t| t.is_zero())),
        expected: "a duration above 0, like \"1s\" or \"500ms\", a whole number of \
                   milliseconds, or off",
        default: [dev: None, prod: Some(Duration::from_secs(1)), test: None],
        setter: keep_slower_than(threshold: into),
    }
    /// Tail sampling: the spans held for one local trace, its root not counted; later ones are dropped and counted in `o11y_spans_dropped_total{reason="tail_trace_cap"}`.
    tracing.tail_max_spans_per_trace: usize => TailMaxSpansPerTrace {
        env: "O11Y_TRACING_TAIL_MAX_SPANS_PER_TRACE",
        parse: parse_whole,
        check: |cap| refuse_if(*cap == 0),
        expected: "a whole number of at least 1 (spans held per local trace)",
        default: [DEFAULT_TAIL_MAX_SPANS_PER_TRACE],
        setter: tail_max_spans_per_trace(cap),
    }
    /// Tail sampling: the bytes all held spans may take together; past it, spans are dropped and counted in `o11y_spans_dropped_total{reason="tail_bytes_cap"}`.
    tracing.tail_max_bytes: usize => TailMaxBytes {
        env: "O11Y_TRACING_TAIL_MAX_BYTES",
        parse: parse_bytes,
        check: |cap| refuse_if(*cap == 0),
        expected: "a size above 0: a whole number of bytes, or one with a unit, like \
                   \"64MiB\", \"512KiB\" or \"1GiB\"",
        default: [DEFAULT_TAIL_MAX_BYTES],
        setter: tail_max_bytes(bytes),
    }
    /// Children follow their parent's (local or remote) sampling decision.
    tracing.parent_based: bool => ParentBased {
        env: "O11Y_TRACING_PARENT_BASED",
        also: &[SAMPLER_VAR],
        parse: parse_bool,
        expected: EXPECT_BOOL,
        default: [true],
        setter: parent_based(parent_based),
    }
    /// Also print finished spans to stderr (a development aid).
    tracing.console_exporter: bool => ConsoleExporter {
        env: "O11Y_TRACING_CONSOLE_EXPORTER",
        parse: parse_bool,
        expected: EXPECT_BOOL,
        default: [false],
        setter: console_exporter(enabled),
    }
    /// Log lines on stdout: `console` (human, colourised on a terminal) or `json` (one object per line).
    logging.format: LogFormat => LogFormat {
        env: "O11Y_LOGGING_FORMAT",
        parse: parse_format,
        expected: "console or json",
        default: [dev: LogFormat::Console, prod: LogFormat::Json, test: LogFormat::Console],
        setter: log_format(format),
    }
    /// A filter in `RUST_LOG` syntax (`info,sqlx=warn`), for spans and events.
    logging.level: String => LogLevel {
        env: "O11Y_LOGGING_LEVEL",
        alias: "RUST_LOG",
        parse: |text| Ok(text.to_owned()),
        check: |filter| check_filter(filter),
        expected: "a filter in RUST_LOG syntax, e.g. \"info\" or \"info,sqlx=warn\"",
        default: [dev: "debug".to_owned(), prod: "info".to_owned(), test: "warn".to_owned()],
        setter: log_level(filter: into),
    }
    /// Also write JSON lines to `logging.file_path`, in batches (a warning or an error at once).
    logging.file_enabled: bool => LogFileEnabled {
        env: "O11Y_LOGGING_FILE_ENABLED",
        parse: parse_bool,
        expected: EXPECT_BOOL,
        default: [dev: true, prod: false, test: false],
        setter: log_file_enabled(enabled),
    }
    /// The JSON log file.
    logging.file_path: PathBuf => LogFilePath {
        env: "O11Y_LOGGING_FILE_PATH",
        parse: |text| Ok(PathBuf::from(text)),
        check: |path| refuse_if(path.as_os_str().is_empty()),
        expected: "a non-empty file path",
        default: [computed "`${XDG_STATE_HOME:-$HOME/.local/state}/o11y/<service_name>/app.log`, from the final service name"],
        setter: log_file_path(path: into),
    }
    /// Export log records over OTLP (to the tracing endpoint).
    logging.otlp_enabled: bool => LogOtlpEnabled {
        env: "O11Y_LOGGING_OTLP_ENABLED",
        also: &[SDK_DISABLED_VAR],
        parse: parse_bool,
        expected: EXPECT_BOOL,
        default: [false],
        setter: log_otlp_enabled(enabled),
    }
    /// Metrics are recorded and exposed.
    metrics.enabled: bool => MetricsEnabled {
        env: "O11Y_METRICS_ENABLED",
        parse: parse_bool,
        expected: EXPECT_BOOL,
        default: [dev: true, prod: true, test: false],
        setter: metrics_enabled(enabled),
    }
    /// Also push metrics over OTLP (to the tracing endpoint).
    metrics.otlp_enabled: bool => MetricsOtlpEnabled {
        env: "O11Y_METRICS_OTLP_ENABLED",
        also: &[SDK_DISABLED_VAR],
        parse: parse_bool,
        expected: EXPECT_BOOL,
        default: [false],
        setter: metrics_otlp_enabled(enabled),
    }
    /// The path the metrics endpoint answers `GET` on.
    metrics.endpoint: String => MetricsEndpoint {
        env: "O11Y_METRICS_ENDPOINT",
        parse: |text| Ok(text.to_owned()),
        check: |path| check_path(path),
        expected: "a URL path starting with /, like \"/metrics\", made of letters, digits \
                   and - . _ ~ / (no query, no spaces)",
        default: [DEFAULT_METRICS_ENDPOINT.to_owned()],
        setter: metrics_endpoint(path: into),
    }
    /// The address `o11y::metrics::serve_configured()` binds.
    metrics.listen: SocketAddr => MetricsListen {
        env: "O11Y_METRICS_LISTEN",
        parse: parse_socket_addr,
        expected: "an IP address and port, like \"127.0.0.1:9464\", \"0.0.0.0:9464\" \
                   or \"[::1]:9464\"",
        default: [DEFAULT_METRICS_LISTEN],
        setter: metrics_listen(addr),
    }
    /// The label sets a labelled metric keeps, unless it sets its own cap, before new ones share one overflow series.
    metrics.series_cap: usize => MetricsSeriesCap {
        env: "O11Y_METRICS_SERIES_CAP",
        parse: parse_whole,
        check: |cap| refuse_if(*cap == 0),
        expected: "a whole number of at least 1 (label sets kept per metric)",
        default: [DEFAULT_SERIES_CAP],
        setter: metrics_series_cap(cap),
    }
    /// The networks allowed to scrape (others get 403); empty: every client.
    metrics.allow_from: Vec<IpNet> => MetricsAllowFrom {
        env: "O11Y_METRICS_ALLOW_FROM",
        list: ',' of parse_net,
        expected: "IP networks in CIDR notation separated by commas, like \
                   \"127.0.0.1/32,10.0.0.0/8\" (a bare IP address means that one address; \
                   in o11y.toml, also an array of strings)",
        default: [Vec::new()],
        setter: metrics_allow_from(nets: each IpNet),
    }
    /// When set, a scrape must send `Authorization: Bearer <token>` (else 401); never printed.
    metrics.bearer_token: String => MetricsBearerToken {
        env: "O11Y_METRICS_BEARER_TOKEN",
        parse: |text| Ok(text.to_owned()),
        check: |token| check_token(token),
        redact: secret,
        expected: "a non-empty token of visible ASCII characters, without spaces",
        default: [unset],
        setter: metrics_bearer_token(token: into),
    }
    /// How often metrics are pushed over OTLP, from 1s to 1h.
    metrics.otlp_interval: Duration => MetricsOtlpInterval {
        env: "O11Y_METRICS_OTLP_INTERVAL",
        parse: parse_duration,
        check: |interval| refuse_if(!(MIN_OTLP_INTERVAL..=MAX_OTLP_INTERVAL).contains(interval)),
        expected: "a duration from 1s to 1h, like \"60s\" or \"1m\", \
                   or a whole number of milliseconds",
        // Dev pushes often so a local collector shows metrics quickly.
        default: [dev: Duration::from_secs(10), prod: Duration::from_secs(60), test: Duration::from_secs(60)],
        setter: metrics_otlp_interval(interval),
    }
    /// The HTTP server layer writes one `request_finished` log line per request (status, duration).
    http.access_log: bool => HttpAccessLog {
        env: "O11Y_HTTP_ACCESS_LOG",
        parse: parse_bool,
        expected: EXPECT_BOOL,
        default: [true],
        setter: http_access_log(enabled),
    }
    /// Request paths the HTTP server layer leaves alone (no span, log line or metrics), exact matches; empty: every path is observed.
    http.exclude_paths: Vec<String> => HttpExcludePaths {
        env: "O11Y_HTTP_EXCLUDE_PATHS",
        list: ',' of |path| check_listed_path(path).map(|()| path.to_owned()),
        check: |paths| paths.iter().try_for_each(|path| check_listed_path(path)),
        expected: "URL paths separated by commas, like \"/health,/ready\", each starting \
                   with / and made of letters, digits and - . _ ~ / (in o11y.toml, also an \
                   array of strings)",
        default: [DEFAULT_EXCLUDE_PATHS.iter().map(|path| (*path).to_owned()).collect()],
        setter: http_exclude_paths(paths: each into String),
    }
    /// Request headers the HTTP server layer records on its span as `http.request.header.<name>`; sensitive ones (`authorization`, `cookie`, …) with their value redacted.
    http.capture_headers: Vec<String> => HttpCaptureHeaders {
        env: "O11Y_HTTP_CAPTURE_HEADERS",
        list: ',' of |name| check_header_name(name).map(|()| name.to_ascii_lowercase()),
        check: |names| names.iter().try_for_each(|name| check_header_name(name)),
        expected: "header names separated by commas, like \"x-tenant,user-agent\" \
                   (in o11y.toml, also an array of strings)",
        default: [Vec::new()],
        setter: http_capture_headers(names: each into String),
    }
    /// Outbound calls through the HTTP client made inside a request carry that request's `X-Request-ID`.
    http.client.forward_request_id: bool => HttpClientForwardRequestId {
        env: "O11Y_HTTP_CLIENT_FORWARD_REQUEST_ID",
        parse: parse_bool,
        expected: EXPECT_BOOL,
        default: [true],
        setter: http_client_forward_request_id(forward),
    }
    /// The dev console (`/o11y/`: requests, traces, logs, N+1, metrics) is served by `o11y::http::routes()` and the standalone metrics server, and fed in-process; under `prod` it also needs `dev_console.allow_in_prod`.
    dev_console.enabled: bool => DevConsoleEnabled {
        env: "O11Y_DEV_CONSOLE_ENABLED",
        parse: parse_bool,
        expected: EXPECT_BOOL,
        default: [dev: true, prod: false, test: false],
        setter: dev_console_enabled(enabled),
    }
    /// Lets `dev_console.enabled` turn the console on under the `prod` profile (a warning is logged at `init()`).
    dev_console.allow_in_prod: bool => DevConsoleAllowInProd {
        env: "O11Y_DEV_CONSOLE_ALLOW_IN_PROD",
        parse: parse_bool,
        expected: EXPECT_BOOL,
        default: [false],
        setter: dev_console_allow_in_prod(allow),
    }
    /// The networks allowed to open the dev console and send it OTLP (others get 403); empty: every client.
    dev_console.allow_from: Vec<IpNet> => DevConsoleAllowFrom {
        env: "O11Y_DEV_CONSOLE_ALLOW_FROM",
        list: ',' of parse_net,
        expected: "IP networks in CIDR notation separated by commas, like \
                   \"127.0.0.0/8,::1/128\" (a bare IP address means that one address; \
                   in o11y.toml, also an array of strings)",
        default: [DEFAULT_DEV_CONSOLE_ALLOW_FROM.iter().map(|net| net.parse().expect("a valid network")).collect()],
        setter: dev_console_allow_from(nets: each IpNet),
    }
    /// The traces the dev console keeps in memory; the oldest go first.
    dev_console.max_traces: usize => DevConsoleMaxTraces {
        env: "O11Y_DEV_CONSOLE_MAX_TRACES",
        parse: parse_whole,
        check: |count| refuse_if(*count == 0),
        expected: "a whole number of at least 1 (traces kept)",
        default: [1000],
        setter: dev_console_max_traces(count),
    }
    /// The bytes the dev console's traces and log lines may take in memory (estimated); the oldest traces go first.
    dev_console.max_bytes: usize => DevConsoleMaxBytes {
        env: "O11Y_DEV_CONSOLE_MAX_BYTES",
        parse: parse_whole,
        check: |bytes| refuse_if(*bytes < MIN_DEV_CONSOLE_BYTES),
        expected: "a whole number of bytes of at least 65536, like 67108864 (64 MiB)",
        default: [64 * 1024 * 1024],
        setter: dev_console_max_bytes(bytes),
    }
    /// The largest OTLP request body the dev console's receiver (`/o11y/v1/traces`, `/o11y/v1/logs`) reads; larger ones get 413.
    dev_console.max_body_bytes: usize => DevConsoleMaxBodyBytes {
        env: "O11Y_DEV_CONSOLE_MAX_BODY_BYTES",
        parse: parse_whole,
        check: |bytes| refuse_if(*bytes == 0),
        expected: "a whole number of bytes of at least 1, like 4194304 (4 MiB)",
        default: [4 * 1024 * 1024],
        setter: dev_console_max_body_bytes(bytes),
    }
    /// Queries of one fingerprint within one scope that make an N+1, at least 2.
    db.n_plus_one.threshold: u32 => DbNPlusOneThreshold {
        env: "O11Y_DB_N_PLUS_ONE_THRESHOLD",
        parse: parse_whole,
        check: |threshold| refuse_if(!(2..=MAX_N_PLUS_ONE_THRESHOLD).contains(threshold)),
        expected: "a whole number from 2 to 1000000 (queries of one shape in one scope)",
        default: [5],
        setter: db_n_plus_one_threshold(threshold),
    }
    /// The least wall time an N+1's queries must cover for a report (the union of their intervals: concurrent queries count once).
    db.n_plus_one.min_duration: Duration => DbNPlusOneMinDuration {
        env: "O11Y_DB_N_PLUS_ONE_MIN_DURATION",
        parse: parse_duration,
        check: |min| refuse_if(*min > MAX_N_PLUS_ONE_MIN_DURATION),
        expected: "a duration of at most 1h, like \"50ms\" or \"0s\" (no minimum), \
                   or a whole number of milliseconds",
        // Sentry's default: below 50 ms in total, repeated queries are not
        // worth a production warning; in development every one is.
        default: [dev: Duration::ZERO, prod: Duration::from_millis(50), test: Duration::ZERO],
        setter: db_n_plus_one_min_duration(min),
    }
    /// Scope names or statements never reported as an N+1, `*` matching anything; separated by `;` (statements contain commas).
    db.n_plus_one.allowlist: Vec<String> => DbNPlusOneAllowlist {
        env: "O11Y_DB_N_PLUS_ONE_ALLOWLIST",
        list: ';' of |pattern| Ok(pattern.to_owned()),
        expected: "patterns separated by ';' (statements contain commas), each a scope name \
                   (a function, a route) or a statement, where * matches anything, like \
                   \"load_settings;SELECT * FROM flags WHERE name = ?\" \
                   (in o11y.toml, also an array of strings)",
        default: [Vec::new()],
        setter: db_n_plus_one_allowlist(patterns: each into String),
    }
    /// What an N+1 detection does: `warn` (log and count), `raise` (also panic when the scope ends, for test suites) or `off`.
    db.n_plus_one.mode: NPlusOneMode => DbNPlusOneMode {
        env: "O11Y_DB_N_PLUS_ONE_MODE",
        parse: parse_mode,
        expected: "warn (log and count each N+1), raise (also panic when the scope ends, \
                   for test suites) or off",
        default: [NPlusOneMode::Warn],
        setter: db_n_plus_one_mode(mode),
    }
    /// Query spans carry statements as written (literal values included) instead of their fingerprint.
    db.capture_parameters: bool => DbCaptureParameters {
        env: "O11Y_DB_CAPTURE_PARAMETERS",
        parse: parse_bool,
        expected: EXPECT_BOOL,
        default: [false],
        setter: db_capture_parameters(capture),
    }
    /// A query run outside any span (start-up statements, migrations, seeding) is a trace of its own; off, it is only counted in the metrics.
    db.trace_root_queries: bool => DbTraceRootQueries {
        env: "O11Y_DB_TRACE_ROOT_QUERIES",
        parse: parse_bool,
        expected: EXPECT_BOOL,
        default: [false],
        setter: db_trace_root_queries(trace),
    }
    /// When a panic's backtrace is captured for its `exception.stacktrace` and log line: `auto` (when `RUST_LIB_BACKTRACE`, else `RUST_BACKTRACE`, is set and not `0`, as the standard library reads them), `on` or `off`.
    errors.backtrace: BacktraceMode => ErrorsBacktrace {
        env: "O11Y_ERRORS_BACKTRACE",
        parse: parse_backtrace,
        expected: "auto (as RUST_LIB_BACKTRACE / RUST_BACKTRACE say), on or off",
        default: [BacktraceMode::Auto],
        setter: errors_backtrace(mode),
    }
    /// The Sentry DSN errors and panics of observed code are sent to as events (feature `sentry`); unset: nothing of Sentry runs.
    sentry.dsn: String => SentryDsn {
        env: "O11Y_SENTRY_DSN",
        alias: "SENTRY_DSN",
        parse: |text| Ok(text.trim().to_owned()),
        check: |dsn| check_dsn(dsn),
        redact: credentials,
        expected: "a Sentry DSN, https://<public key>@<host>/<project id>",
        default: [unset],
        setter: sentry_dsn(dsn: into),
    }
    /// The `environment` of Sentry events; unset: the profile's name.
    sentry.environment: String => SentryEnvironment {
        env: "O11Y_SENTRY_ENVIRONMENT",
        alias: "SENTRY_ENVIRONMENT",
        parse: |text| Ok(text.to_owned()),
        check: |environment| refuse_if(environment.trim().is_empty()),
        expected: "a non-empty name, like \"staging\"",
        default: [unset],
        setter: sentry_environment(environment: into),
    }
    /// The `release` of Sentry events; unset: `service_version`, else the `GIT_SHA` variable.
    sentry.release: String => SentryRelease {
        env: "O11Y_SENTRY_RELEASE",
        alias: "SENTRY_RELEASE",
        parse: |text| Ok(text.to_owned()),
        check: |release| refuse_if(release.trim().is_empty()),
        expected: "a non-empty release name, like \"checkout@1.4.2\"",
        default: [unset],
        setter: sentry_release(release: into),
    }
    /// The share of Sentry events sent, from 0.0 to 1.0.
    sentry.event_sample_rate: f64 => SentryEventSampleRate {
        env: "O11Y_SENTRY_EVENT_SAMPLE_RATE",
        parse: parse_number,
        check: |rate| refuse_if(!(rate.is_finite() && (0.0..=1.0).contains(rate))),
        expected: "a number from 0.0 to 1.0",
        default: [1.0],
        setter: sentry_event_sample_rate(rate),
    }
    /// Secrets and personal data are scrubbed from spans, log lines, error texts, URLs and captured headers before they leave the process.
    redaction.enabled: bool => RedactionEnabled {
        env: "O11Y_REDACTION_ENABLED",
        parse: parse_bool,
        expected: EXPECT_BOOL,
        default: [true],
        setter: redaction_enabled(enabled),
    }
    /// Names added to the key rule (a field, attribute, query parameter or header so named has its whole value redacted), matched as words: `note` also covers `order_note`.
    redaction.keys: Vec<String> => RedactionKeys {
        env: "O11Y_REDACTION_KEYS",
        list: ',' of |name| check_key_name(name).map(|()| name.to_owned()),
        check: |names| names.iter().try_for_each(|name| check_key_name(name)),
        expected: "names separated by commas, like \"customer_name,order_note\" \
                   (in o11y.toml, also an array of strings)",
        default: [Vec::new()],
        setter: redaction_keys(names: each into String),
    }
    /// Names the key rule leaves alone (whole names; their text still goes through the patterns).
    redaction.allow_keys: Vec<String> => RedactionAllowKeys {
        env: "O11Y_REDACTION_ALLOW_KEYS",
        list: ',' of |name| check_key_name(name).map(|()| name.to_owned()),
        check: |names| names.iter().try_for_each(|name| check_key_name(name)),
        expected: "names separated by commas, like \"token_count,session_length\" \
                   (in o11y.toml, also an array of strings)",
        default: [Vec::new()],
        setter: redaction_allow_keys(names: each into String),
    }
    /// Value patterns on or off (`+phone`, `-email`) and custom regular expressions (`re:<regex>`), separated by `;`.
    redaction.patterns: Vec<RedactionPattern> => RedactionPatterns {
        env: "O11Y_REDACTION_PATTERNS",
        list: ';' of parse_pattern,
        check: |patterns| patterns.iter().try_for_each(check_pattern),
        expected: "items separated by ';': +name or -name to turn a built-in pattern on or \
                   off (email, card_number, jwt, bearer, aws_access_key, private_key, us_ssn, \
                   phone), or re:<regex> for a regular expression to redact, like \
                   \"-email;+phone;re:ord-\\d{6}\" (in o11y.toml, also an array of strings)",
        default: [Vec::new()],
        setter: redaction_patterns(patterns: each RedactionPattern),
    }
    /// What replaces a redacted value or match.
    redaction.replacement: String => RedactionReplacement {
        env: "O11Y_REDACTION_REPLACEMENT",
        parse: |text| Ok(text.to_owned()),
        expected: "any text, like \"[REDACTED]\" or \"***\"",
        default: [DEFAULT_REDACTION_REPLACEMENT.to_owned()],
        setter: redaction_replacement(text: into),
    }
    /// The most characters of a text value (span attribute, span event attribute, log field); longer ones are cut at a character boundary. Unset: no limit.
    limits.attribute_value_length: usize => LimitsAttributeValueLength {
        env: "O11Y_LIMITS_ATTRIBUTE_VALUE_LENGTH",
        alias: "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
        parse: parse_whole,
        check: |length| refuse_if(*length == 0),
        expected: "a whole number of at least 1 (characters; leave it unset for no limit)",
        default: [unset],
        setter: limits_attribute_value_length(length),
    }
    /// The attributes a span keeps; past it, new keys are dropped and counted in the span's dropped count.
    limits.span_attribute_count: usize => LimitsSpanAttributeCount {
        env: "O11Y_LIMITS_SPAN_ATTRIBUTE_COUNT",
        alias: "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT",
        parse: parse_whole,
        expected: EXPECT_SPAN_LIMIT,
        default: [DEFAULT_SPAN_LIMIT],
        setter: limits_span_attribute_count(count),
    }
    /// The events a span keeps; later ones are dropped and counted.
    limits.span_event_count: usize => LimitsSpanEventCount {
        env: "O11Y_LIMITS_SPAN_EVENT_COUNT",
        alias: "OTEL_SPAN_EVENT_COUNT_LIMIT",
        parse: parse_whole,
        expected: EXPECT_SPAN_LIMIT,
        default: [DEFAULT_SPAN_LIMIT],
        setter: limits_span_event_count(count),
    }
    /// The links a span keeps; later ones are dropped and counted.
    limits.span_link_count: usize => LimitsSpanLinkCount {
        env: "O11Y_LIMITS_SPAN_LINK_COUNT",
        alias: "OTEL_SPAN_LINK_COUNT_LIMIT",
        parse: parse_whole,
        expected: EXPECT_SPAN_LIMIT,
        default: [DEFAULT_SPAN_LIMIT],
        setter: limits_span_link_count(count),
    }
    /// Objectives of HTTP routes, for the rules and dashboards `o11y rules` and `o11y dashboards` generate; separated by `;`.
    slo.routes: Vec<RouteObjective> => SloRoutes {
        env: "O11Y_SLO_ROUTES",
        list: ';' of parse_route,
        check: |routes| check_routes(routes),
        expected: "objectives separated by ';', each `[METHOD] ROUTE: OBJECTIVE` where the \
                   objective is `success = 99.9`, `latency = 250ms at 99` (a bucket of \
                   http_server_request_duration_seconds) or both, like \
                   \"GET /orders/{id}: success = 99.9, latency = 250ms at 99\" \
                   (in o11y.toml, also an array of strings)",
        default: [Vec::new()],
        setter: slo_routes(routes: each RouteObjective),
    }
    /// The generated alert on a route's p99 latency fires above this.
    alerts.http_latency_p99: Duration => AlertsHttpLatencyP99 {
        env: "O11Y_ALERTS_HTTP_LATENCY_P99",
        parse: parse_duration,
        check: check_quantile_threshold,
        expected: "a duration above 0 and at most 10s (the largest bucket: a quantile of \
                   the histogram is never above it), like \"1s\" or \"250ms\"",
        default: [Duration::from_secs(1)],
        setter: alerts_http_latency_p99(threshold),
    }
    /// The generated alert on a task's p95 wait in its queue fires above this.
    alerts.task_queue_wait_p95: Duration => AlertsTaskQueueWaitP95 {
        env: "O11Y_ALERTS_TASK_QUEUE_WAIT_P95",
        parse: parse_duration,
        check: check_quantile_threshold,
        expected: "a duration above 0 and at most 10s (the largest bucket: a quantile of \
                   the histogram is never above it), like \"5s\" or \"500ms\"",
        default: [Duration::from_secs(5)],
        setter: alerts_task_queue_wait_p95(threshold),
    }

    qualified {
        SignalEndpoint(OtlpSignal, String) of OtlpEndpoint => |config, signal, url| {
            config.tracing.signals.of_mut(signal).endpoint = Some(url)
        },
        SignalProtocol(OtlpSignal, OtlpProtocol) of OtlpProtocol => |config, signal, protocol| {
            config.tracing.signals.of_mut(signal).protocol = Some(protocol)
        },
    }
}

/// What a TOML value of a key may natively be, besides a string (strings are
/// always read like environment values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Text,
    Bool,
    Number,
    /// A whole number: TOML integers, not floats.
    Integer,
    Duration,
    Table,
    /// A list: a TOML array of strings, or one string of items separated by
    /// the key's separator.
    List,
}

/// One configuration key: its dotted `o11y.toml` name, its `O11Y_*`
/// environment variable, and what values it accepts.
#[derive(Debug)]
pub struct KnownKey {
    pub(super) key: Key,
    pub(super) name: &'static str,
    pub(super) env: &'static str,
    /// A standard variable read as this key, below [`KnownKey::env`].
    pub(super) alias: Option<&'static str>,
    /// Standard variables with handling of their own that set this key.
    pub(super) also: &'static [&'static str],
    pub(super) kind: Kind,
    pub(super) redact: Redact,
    pub(super) expected: &'static str,
    pub(super) doc: &'static str,
}

impl KnownKey {
    /// The dotted `o11y.toml` name, e.g. `tracing.sample_rate`.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The environment variable, e.g. `O11Y_TRACING_SAMPLE_RATE`.
    pub fn env(&self) -> &'static str {
        self.env
    }

    /// What values are allowed, as error messages say it.
    pub fn expected(&self) -> &'static str {
        self.expected
    }

    /// What the key is, in one line.
    pub fn doc(&self) -> &'static str {
        self.doc.trim()
    }
}

impl Key {
    pub(super) fn def(self) -> &'static KnownKey {
        // KNOWN_KEYS lists the keys in declaration order (the macro writes both).
        &KNOWN_KEYS[self as usize]
    }

    pub(super) fn by_name(name: &str) -> Option<&'static KnownKey> {
        KNOWN_KEYS.iter().find(|k| k.name == name)
    }

    pub(super) fn by_env(var: &str) -> Option<&'static KnownKey> {
        KNOWN_KEYS.iter().find(|k| k.env == var)
    }
}

/// A key's default as the key table shows it.
#[cfg(test)]
pub(super) enum DefaultText {
    /// The value as written in the environment.
    Value(String),
    /// No value unless one is configured.
    Unset,
    /// Decided from the other sources; how, in words.
    Computed(&'static str),
}

/// The key table of the [`config`](super) module docs, as Markdown.
#[cfg(test)]
pub(super) fn markdown_table() -> String {
    let mut out = String::from(
        "| key | variable | standard variables (below it) | default | what it is |\n\
         |-----|----------|--------------------------------|---------|------------|\n",
    );
    for def in KNOWN_KEYS {
        let standard: Vec<String> = def
            .alias
            .iter()
            .chain(def.also)
            .map(|var| format!("`{var}`"))
            .collect();
        out.push_str(&format!(
            "| `{}` | `{}` | {} | {} | {} |\n",
            def.name,
            def.env,
            standard.join(", "),
            default_cell(def.key),
            def.doc(),
        ));
    }
    out
}

#[cfg(test)]
fn default_cell(key: Key) -> String {
    let shown = |text: DefaultText| match text {
        DefaultText::Value(value) if value.is_empty() => "empty".to_owned(),
        DefaultText::Value(value) => format!("`{value}`"),
        DefaultText::Unset => "unset".to_owned(),
        DefaultText::Computed(how) => how.to_owned(),
    };
    let [dev, prod, test] = Profile::ALL.map(|profile| shown(default_text(key, profile)));
    if dev == prod && prod == test {
        dev
    } else {
        format!("dev {dev}, prod {prod}, test {test}")
    }
}

/// `o11y.toml` sections (and nested sections, like `db.n_plus_one`): the
/// prefixes of the dotted names.
pub(super) fn is_section(name: &str) -> bool {
    KNOWN_KEYS.iter().any(|k| {
        k.name
            .strip_prefix(name)
            .is_some_and(|rest| rest.starts_with('.'))
    })
}

// ---------------------------------------------------------------------------
// Did-you-mean
// ---------------------------------------------------------------------------

/// The known name closest to `unknown`, if any is close enough to be a
/// likely typo. A name whose last dotted segment is exactly a key of one
/// other section (`tracing.level` → `logging.level`) wins outright.
pub(super) fn suggest<'a>(unknown: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let leaf = |s: &str| s.rsplit('.').next().unwrap_or(s).to_owned();
    let unknown_leaf = leaf(unknown);
    let same_leaf: Vec<&'a str> = candidates
        .iter()
        .copied()
        .filter(|c| *c != unknown && c.contains('.') && leaf(c) == unknown_leaf)
        .collect();
    if let [only] = same_leaf.as_slice() {
        return Some(only);
    }

    let unknown_lc = unknown.to_ascii_lowercase();
    candidates
        .iter()
        .copied()
        .filter_map(|c| {
            let c_lc = c.to_ascii_lowercase();
            is_close(&unknown_lc, &c_lc).then(|| (strsim::jaro_winkler(&unknown_lc, &c_lc), c))
        })
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// Close: at most two edits apart, or similar once the shared section
/// prefix is removed. Comparing whole names would let the prefix
/// (`O11Y_TRACING_`) make every key of a section look alike.
fn is_close(a: &str, b: &str) -> bool {
    if strsim::damerau_levenshtein(a, b) <= 2 {
        return true;
    }
    let shared = a
        .char_indices()
        .zip(b.chars())
        .take_while(|((_, x), y)| x == y)
        .filter(|((_, x), _)| matches!(x, '.' | '_'))
        .last()
        .map_or(0, |((i, _), _)| i + 1);
    let (rest_a, rest_b) = (&a[shared..], &b[shared..]);
    strsim::jaro_winkler(rest_a, rest_b) >= 0.85
}

#[cfg(test)]
mod tests;
