//! Loading: the table of known keys, the sources (`o11y.toml`, the
//! environment, [`ConfigBuilder`]), layering them over the profile defaults,
//! and validating every value with its [`Origin`].
//!
//! Sources, later wins: profile defaults < `o11y.toml` < environment <
//! builder. Every value is validated where it is read, even one a later
//! source overrides: a typo must not hide behind an override that happens to
//! be set today.
//!
//! The keys, their variables and value syntax are listed in the
//! [`config`](super) module docs, from [`KNOWN_KEYS`].

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::error::line_column;
use super::{Config, ConfigError, LogFormat, Origin, OtlpProtocol, Profile};

// ---------------------------------------------------------------------------
// The table of known keys
// ---------------------------------------------------------------------------

/// A known key. Declared in the same order as [`KNOWN_KEYS`], which is also
/// the order values of one source are applied in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Profile,
    ResourceAttributes,
    ServiceName,
    ServiceVersion,
    ShutdownTimeout,
    TracingEnabled,
    OtlpEndpoint,
    OtlpProtocol,
    SampleRate,
    ParentBased,
    ConsoleExporter,
    LogFormat,
    LogLevel,
    LogFileEnabled,
    LogFilePath,
    LogOtlpEnabled,
    MetricsEnabled,
    MetricsOtlpEnabled,
}

/// What a TOML value of a key may natively be, besides a string (strings are
/// always read like environment values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Bool,
    Number,
    Duration,
    Table,
}

/// One configuration key: its dotted `o11y.toml` name, its `O11Y_*`
/// environment variable, and what values it accepts.
#[derive(Debug)]
pub struct KnownKey {
    key: Key,
    name: &'static str,
    env: &'static str,
    kind: Kind,
    expected: &'static str,
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
}

const EXPECT_BOOL: &str = "true or false (also 1/0, yes/no, on/off)";

/// Every configuration key. Resource attributes come before the service
/// name and version so an explicit name wins over `service.name` in the
/// attributes of the same source.
pub const KNOWN_KEYS: &[KnownKey] = &[
    KnownKey {
        key: Key::Profile,
        name: "profile",
        env: "O11Y_PROFILE",
        kind: Kind::Text,
        expected: Profile::EXPECTED,
    },
    KnownKey {
        key: Key::ResourceAttributes,
        name: "resource_attributes",
        env: "O11Y_RESOURCE_ATTRIBUTES",
        kind: Kind::Table,
        expected: "key=value pairs separated by commas, with percent-encoded values \
                   (in o11y.toml, a table of strings)",
    },
    KnownKey {
        key: Key::ServiceName,
        name: "service_name",
        env: "O11Y_SERVICE_NAME",
        kind: Kind::Text,
        expected: "a non-empty name",
    },
    KnownKey {
        key: Key::ServiceVersion,
        name: "service_version",
        env: "O11Y_SERVICE_VERSION",
        kind: Kind::Text,
        expected: "a non-empty version",
    },
    KnownKey {
        key: Key::ShutdownTimeout,
        name: "shutdown_timeout",
        env: "O11Y_SHUTDOWN_TIMEOUT",
        kind: Kind::Duration,
        expected: "a duration above 0 and at most 10m, like \"5s\" or \"250ms\", \
                   or a whole number of milliseconds",
    },
    KnownKey {
        key: Key::TracingEnabled,
        name: "tracing.enabled",
        env: "O11Y_TRACING_ENABLED",
        kind: Kind::Bool,
        expected: EXPECT_BOOL,
    },
    KnownKey {
        key: Key::OtlpEndpoint,
        name: "tracing.otlp_endpoint",
        env: "O11Y_TRACING_OTLP_ENDPOINT",
        kind: Kind::Text,
        expected: "an http:// or https:// URL, e.g. http://localhost:4317",
    },
    KnownKey {
        key: Key::OtlpProtocol,
        name: "tracing.otlp_protocol",
        env: "O11Y_TRACING_OTLP_PROTOCOL",
        kind: Kind::Text,
        expected: "grpc or http (also written http/protobuf)",
    },
    KnownKey {
        key: Key::SampleRate,
        name: "tracing.sample_rate",
        env: "O11Y_TRACING_SAMPLE_RATE",
        kind: Kind::Number,
        expected: "a number from 0.0 to 1.0",
    },
    KnownKey {
        key: Key::ParentBased,
        name: "tracing.parent_based",
        env: "O11Y_TRACING_PARENT_BASED",
        kind: Kind::Bool,
        expected: EXPECT_BOOL,
    },
    KnownKey {
        key: Key::ConsoleExporter,
        name: "tracing.console_exporter",
        env: "O11Y_TRACING_CONSOLE_EXPORTER",
        kind: Kind::Bool,
        expected: EXPECT_BOOL,
    },
    KnownKey {
        key: Key::LogFormat,
        name: "logging.format",
        env: "O11Y_LOGGING_FORMAT",
        kind: Kind::Text,
        expected: "console or json",
    },
    KnownKey {
        key: Key::LogLevel,
        name: "logging.level",
        env: "O11Y_LOGGING_LEVEL",
        kind: Kind::Text,
        expected: "a filter in RUST_LOG syntax, e.g. \"info\" or \"info,sqlx=warn\"",
    },
    KnownKey {
        key: Key::LogFileEnabled,
        name: "logging.file_enabled",
        env: "O11Y_LOGGING_FILE_ENABLED",
        kind: Kind::Bool,
        expected: EXPECT_BOOL,
    },
    KnownKey {
        key: Key::LogFilePath,
        name: "logging.file_path",
        env: "O11Y_LOGGING_FILE_PATH",
        kind: Kind::Text,
        expected: "a non-empty file path",
    },
    KnownKey {
        key: Key::LogOtlpEnabled,
        name: "logging.otlp_enabled",
        env: "O11Y_LOGGING_OTLP_ENABLED",
        kind: Kind::Bool,
        expected: EXPECT_BOOL,
    },
    KnownKey {
        key: Key::MetricsEnabled,
        name: "metrics.enabled",
        env: "O11Y_METRICS_ENABLED",
        kind: Kind::Bool,
        expected: EXPECT_BOOL,
    },
    KnownKey {
        key: Key::MetricsOtlpEnabled,
        name: "metrics.otlp_enabled",
        env: "O11Y_METRICS_OTLP_ENABLED",
        kind: Kind::Bool,
        expected: EXPECT_BOOL,
    },
];

impl Key {
    fn def(self) -> &'static KnownKey {
        // KNOWN_KEYS lists the keys in declaration order (checked by a test).
        &KNOWN_KEYS[self as usize]
    }

    fn by_name(name: &str) -> Option<&'static KnownKey> {
        KNOWN_KEYS.iter().find(|k| k.name == name)
    }

    fn by_env(var: &str) -> Option<&'static KnownKey> {
        KNOWN_KEYS.iter().find(|k| k.env == var)
    }
}

/// `o11y.toml` sections: the prefixes of the dotted names.
fn is_section(name: &str) -> bool {
    KNOWN_KEYS
        .iter()
        .any(|k| k.name.split_once('.').is_some_and(|(s, _)| s == name))
}

/// `O11Y_*` variables that are not configuration keys and must not be
/// reported as unknown. A trailing `*` matches any suffix (the test
/// tooling's variables, e.g. `O11Y_REQUIRE_PEERS`). `O11Y_PROFILE` is also a
/// key; it is listed because it is read before everything else.
const ENV_ALLOWLIST: &[&str] = &[
    "O11Y_PROFILE",
    "O11Y_CONFIG",
    "O11Y_TEST*",
    "O11Y_REQUIRE*",
    "O11Y_PEERS*",
];

fn env_allowed(var: &str) -> bool {
    ENV_ALLOWLIST
        .iter()
        .any(|allowed| match allowed.strip_suffix('*') {
            Some(prefix) => var.starts_with(prefix),
            None => var == *allowed,
        })
}

// ---------------------------------------------------------------------------
// Typed values
// ---------------------------------------------------------------------------

/// One parsed value of one key.
#[derive(Debug, Clone, PartialEq)]
enum Setting {
    Profile(Profile),
    ResourceAttributes(Vec<(String, String)>),
    ServiceName(String),
    ServiceVersion(String),
    ShutdownTimeout(Duration),
    TracingEnabled(bool),
    OtlpEndpoint(String),
    OtlpProtocol(OtlpProtocol),
    SampleRate(f64),
    ParentBased(bool),
    ConsoleExporter(bool),
    LogFormat(LogFormat),
    LogLevel(String),
    LogFileEnabled(bool),
    LogFilePath(PathBuf),
    LogOtlpEnabled(bool),
    MetricsEnabled(bool),
    MetricsOtlpEnabled(bool),
}

impl Setting {
    fn key(&self) -> Key {
        match self {
            Setting::Profile(_) => Key::Profile,
            Setting::ResourceAttributes(_) => Key::ResourceAttributes,
            Setting::ServiceName(_) => Key::ServiceName,
            Setting::ServiceVersion(_) => Key::ServiceVersion,
            Setting::ShutdownTimeout(_) => Key::ShutdownTimeout,
            Setting::TracingEnabled(_) => Key::TracingEnabled,
            Setting::OtlpEndpoint(_) => Key::OtlpEndpoint,
            Setting::OtlpProtocol(_) => Key::OtlpProtocol,
            Setting::SampleRate(_) => Key::SampleRate,
            Setting::ParentBased(_) => Key::ParentBased,
            Setting::ConsoleExporter(_) => Key::ConsoleExporter,
            Setting::LogFormat(_) => Key::LogFormat,
            Setting::LogLevel(_) => Key::LogLevel,
            Setting::LogFileEnabled(_) => Key::LogFileEnabled,
            Setting::LogFilePath(_) => Key::LogFilePath,
            Setting::LogOtlpEnabled(_) => Key::LogOtlpEnabled,
            Setting::MetricsEnabled(_) => Key::MetricsEnabled,
            Setting::MetricsOtlpEnabled(_) => Key::MetricsOtlpEnabled,
        }
    }
}

/// The value as an error message shows a builder argument.
impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Setting::Profile(p) => write!(f, "{p}"),
            Setting::ResourceAttributes(pairs) => {
                for (i, (k, v)) in pairs.iter().enumerate() {
                    let sep = if i == 0 { "" } else { "," };
                    write!(f, "{sep}{k}={v}")?;
                }
                Ok(())
            }
            Setting::ServiceName(s)
            | Setting::ServiceVersion(s)
            | Setting::OtlpEndpoint(s)
            | Setting::LogLevel(s) => f.write_str(s),
            Setting::ShutdownTimeout(d) => write!(f, "{}", humantime::format_duration(*d)),
            Setting::TracingEnabled(b)
            | Setting::ParentBased(b)
            | Setting::ConsoleExporter(b)
            | Setting::LogFileEnabled(b)
            | Setting::LogOtlpEnabled(b)
            | Setting::MetricsEnabled(b)
            | Setting::MetricsOtlpEnabled(b) => write!(f, "{b}"),
            Setting::OtlpProtocol(OtlpProtocol::Grpc) => f.write_str("grpc"),
            Setting::OtlpProtocol(OtlpProtocol::Http) => f.write_str("http"),
            Setting::SampleRate(r) => write!(f, "{r}"),
            Setting::LogFormat(LogFormat::Console) => f.write_str("console"),
            Setting::LogFormat(LogFormat::Json) => f.write_str("json"),
            Setting::LogFilePath(p) => write!(f, "{}", p.display()),
        }
    }
}

/// A setting with the text it was read from and where.
#[derive(Debug)]
struct Entry {
    setting: Setting,
    /// The value as written, for error messages.
    raw: String,
    origin: Origin,
}

/// Why a value was refused: the key's `expected` text, plus a detail when
/// one helps (which scheme, which TOML type, the filter parser's reason),
/// shown after a semicolon.
#[derive(Debug, PartialEq)]
struct Refusal(Option<String>);

impl Refusal {
    fn plain() -> Refusal {
        Refusal(None)
    }

    fn because(detail: impl Into<String>) -> Refusal {
        Refusal(Some(detail.into()))
    }

    fn into_error(self, key: Key, raw: &str, origin: Origin) -> ConfigError {
        let def = key.def();
        let expected = match self.0 {
            Some(detail) => format!("{}; {detail}", def.expected),
            None => def.expected.to_owned(),
        };
        ConfigError::Invalid {
            key: def.name.to_owned(),
            value: raw.to_owned(),
            origin,
            expected,
        }
    }
}

// ---------------------------------------------------------------------------
// Parsing text (environment values and o11y.toml strings)
// ---------------------------------------------------------------------------

/// Reads `text` as a value of `key`. Syntax only; ranges are checked by
/// [`check`] so builder values go through the same rules.
fn parse_text(key: Key, text: &str) -> Result<Setting, Refusal> {
    Ok(match key {
        Key::Profile => Setting::Profile(text.parse().map_err(|_| Refusal::plain())?),
        Key::ResourceAttributes => Setting::ResourceAttributes(parse_attributes(text)?),
        Key::ServiceName => Setting::ServiceName(text.to_owned()),
        Key::ServiceVersion => Setting::ServiceVersion(text.to_owned()),
        Key::ShutdownTimeout => Setting::ShutdownTimeout(parse_duration(text)?),
        Key::TracingEnabled => Setting::TracingEnabled(parse_bool(text)?),
        Key::OtlpEndpoint => Setting::OtlpEndpoint(text.to_owned()),
        Key::OtlpProtocol => Setting::OtlpProtocol(parse_protocol(text)?),
        Key::SampleRate => Setting::SampleRate(parse_number(text)?),
        Key::ParentBased => Setting::ParentBased(parse_bool(text)?),
        Key::ConsoleExporter => Setting::ConsoleExporter(parse_bool(text)?),
        Key::LogFormat => Setting::LogFormat(parse_format(text)?),
        Key::LogLevel => Setting::LogLevel(text.to_owned()),
        Key::LogFileEnabled => Setting::LogFileEnabled(parse_bool(text)?),
        Key::LogFilePath => Setting::LogFilePath(PathBuf::from(text)),
        Key::LogOtlpEnabled => Setting::LogOtlpEnabled(parse_bool(text)?),
        Key::MetricsEnabled => Setting::MetricsEnabled(parse_bool(text)?),
        Key::MetricsOtlpEnabled => Setting::MetricsOtlpEnabled(parse_bool(text)?),
    })
}

fn parse_bool(text: &str) -> Result<bool, Refusal> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(Refusal::plain()),
    }
}

fn parse_number(text: &str) -> Result<f64, Refusal> {
    text.trim().parse().map_err(|_| Refusal::plain())
}

/// humantime syntax (`5s`, `1m 30s`, `250ms`), or bare milliseconds.
fn parse_duration(text: &str) -> Result<Duration, Refusal> {
    let text = text.trim();
    if let Ok(millis) = text.parse::<u64>() {
        return Ok(Duration::from_millis(millis));
    }
    // humantime's own message ("expected number at 0") would only muddle
    // the expected text, which already shows the syntax.
    humantime::parse_duration(text).map_err(|_| Refusal::plain())
}

fn parse_protocol(text: &str) -> Result<OtlpProtocol, Refusal> {
    // `http/protobuf` is how OTEL_EXPORTER_OTLP_PROTOCOL spells it.
    match text.trim().to_ascii_lowercase().as_str() {
        "grpc" => Ok(OtlpProtocol::Grpc),
        "http" | "http/protobuf" => Ok(OtlpProtocol::Http),
        _ => Err(Refusal::plain()),
    }
}

fn parse_format(text: &str) -> Result<LogFormat, Refusal> {
    match text.trim().to_ascii_lowercase().as_str() {
        "console" => Ok(LogFormat::Console),
        "json" => Ok(LogFormat::Json),
        _ => Err(Refusal::plain()),
    }
}

/// `k=v,k2=v2`, the `OTEL_RESOURCE_ATTRIBUTES` syntax (W3C-baggage-like):
/// values are percent-decoded, names and values trimmed, empty items skipped.
fn parse_attributes(text: &str) -> Result<Vec<(String, String)>, Refusal> {
    let mut pairs = Vec::new();
    for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let Some((name, value)) = item.split_once('=') else {
            return Err(Refusal::because(format!("{item:?} has no '='")));
        };
        let name = name.trim();
        if name.is_empty() {
            return Err(Refusal::because(format!("{item:?} has no name")));
        }
        let value = percent_decode(value.trim()).ok_or_else(|| {
            Refusal::because(format!("{value:?} is not valid percent-encoded UTF-8"))
        })?;
        pairs.push((name.to_owned(), value));
    }
    Ok(pairs)
}

/// Decodes `%XX` escapes; `None` for a truncated or non-hex escape or a
/// result that is not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let &[hi, lo] = bytes.get(i + 1..i + 3)? else {
                return None;
            };
            let hi = char::from(hi).to_digit(16)?;
            let lo = char::from(lo).to_digit(16)?;
            // Two hex digits always fit a byte.
            out.push(u8::try_from(hi * 16 + lo).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

// ---------------------------------------------------------------------------
// Validation (every source)
// ---------------------------------------------------------------------------

/// The longest `shutdown_timeout`: a stuck exporter must not hold a
/// terminating process for longer than orchestrators wait anyway.
const MAX_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// Checks what parsing cannot: ranges, URLs, filters, emptiness.
fn check(setting: &Setting) -> Result<(), Refusal> {
    match setting {
        Setting::ServiceName(s) | Setting::ServiceVersion(s) if s.trim().is_empty() => {
            Err(Refusal::plain())
        }
        Setting::ResourceAttributes(pairs) if pairs.iter().any(|(k, _)| k.trim().is_empty()) => {
            Err(Refusal::because("an attribute name is empty"))
        }
        Setting::ShutdownTimeout(d) if d.is_zero() || *d > MAX_SHUTDOWN_TIMEOUT => {
            Err(Refusal::plain())
        }
        Setting::SampleRate(r) if !(r.is_finite() && (0.0..=1.0).contains(r)) => {
            Err(Refusal::plain())
        }
        Setting::OtlpEndpoint(url) => check_endpoint(url),
        Setting::LogLevel(filter) => check_filter(filter),
        Setting::LogFilePath(p) if p.as_os_str().is_empty() => Err(Refusal::plain()),
        _ => Ok(()),
    }
}

fn check_endpoint(text: &str) -> Result<(), Refusal> {
    // `localhost:4317` parses as a URL with scheme "localhost", so the
    // common mistake of leaving the scheme out is caught before parsing.
    if !text.contains("://") {
        return Err(Refusal::because("a scheme is required"));
    }
    let url = url::Url::parse(text).map_err(|e| Refusal::because(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Refusal::because(format!(
            "scheme {}:// is not supported",
            url.scheme()
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Refusal::because("a host is required"));
    }
    Ok(())
}

const LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];

/// Level names from other logging systems, and what they are called here.
const LEVEL_ALIASES: [(&str, &str); 4] = [
    ("warning", "warn"),
    ("information", "info"),
    ("fatal", "error"),
    ("critical", "error"),
];

/// The level a bare filter word was probably meant to be: a known alias, or
/// one edit away from a level name (`inof`, `debgu`). Kept that strict so
/// real crate names (`mio`, `io`, `tracing`) stay usable as targets.
fn intended_level(word: &str) -> Option<&'static str> {
    let lower = word.to_ascii_lowercase();
    if LEVELS.contains(&lower.as_str()) {
        return None;
    }
    if let Some((_, level)) = LEVEL_ALIASES.iter().find(|(alias, _)| *alias == lower) {
        return Some(level);
    }
    LEVELS
        .into_iter()
        .find(|level| lower.len() >= 3 && strsim::damerau_levenshtein(&lower, level) <= 1)
}

fn check_filter(filter: &str) -> Result<(), Refusal> {
    if filter.trim().is_empty() {
        return Err(Refusal::because("it is empty"));
    }
    tracing_subscriber::EnvFilter::builder()
        .parse(filter)
        .map_err(|e| Refusal::because(e.to_string()))?;
    // EnvFilter reads a bare word as a target name, so a misspelt level
    // (`inof`, `warning`) would quietly mean "everything from a crate called
    // inof" and drop the intended level. Refuse bare words close to a level;
    // a target of that name can still be written `name=trace`.
    for word in filter.split(',').map(str::trim) {
        let is_bare = word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if let Some(level) = intended_level(word).filter(|_| is_bare) {
            return Err(Refusal::because(format!(
                "{word:?} is not a level; did you mean {level}?"
            )));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Did-you-mean
// ---------------------------------------------------------------------------

/// The known name closest to `unknown`, if any is close enough to be a
/// likely typo. A name whose last dotted segment is exactly a key of one
/// other section (`tracing.level` → `logging.level`) wins outright.
fn suggest<'a>(unknown: &str, candidates: &[&'a str]) -> Option<&'a str> {
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

/// Known file keys, and the section names when the unknown key is itself
/// top-level (inside a section, a section name is never the fix).
fn file_key_candidates(top_level: bool) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = KNOWN_KEYS.iter().map(|k| k.name).collect();
    for k in KNOWN_KEYS.iter().filter(|_| top_level) {
        if let Some((section, _)) = k.name.split_once('.')
            && !names.contains(&section)
        {
            names.push(section);
        }
    }
    names
}

fn env_candidates() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = KNOWN_KEYS.iter().map(|k| k.env).collect();
    for allowed in ENV_ALLOWLIST.iter().filter(|a| !a.ends_with('*')) {
        if !names.contains(allowed) {
            names.push(allowed);
        }
    }
    names
}

// ---------------------------------------------------------------------------
// Source: the environment
// ---------------------------------------------------------------------------

/// A snapshot of the environment; empty (or blank) values are dropped, as
/// if unset, and values are trimmed.
#[derive(Debug, Default)]
struct Env {
    vars: BTreeMap<String, String>,
}

impl Env {
    fn from_pairs(pairs: &[(String, String)]) -> Env {
        let mut env = Env::default();
        for (name, value) in pairs {
            env.insert(name, value);
        }
        env
    }

    /// The process environment. A variable o11y reads whose value is not
    /// UTF-8 is an error rather than something to guess at; other
    /// variables are none of our business and are skipped.
    fn from_process() -> Result<Env, ConfigError> {
        let mut env = Env::default();
        for (name, value) in std::env::vars_os() {
            let Ok(name) = name.into_string() else {
                continue;
            };
            match value.into_string() {
                Ok(value) => env.insert(&name, &value),
                Err(value) if Env::read_by_o11y(&name) => {
                    let key = Key::by_env(&name).map_or(name.as_str(), |k| k.name);
                    return Err(ConfigError::Invalid {
                        key: key.to_owned(),
                        value: value.to_string_lossy().into_owned(),
                        origin: Origin::env(&name),
                        expected: "valid UTF-8 text".to_owned(),
                    });
                }
                Err(_) => {}
            }
        }
        Ok(env)
    }

    fn read_by_o11y(name: &str) -> bool {
        name.starts_with("O11Y_")
            || STANDARD_VARS.iter().any(|(var, _)| *var == name)
            || [SAMPLER_VAR, SAMPLER_ARG_VAR, SDK_DISABLED_VAR].contains(&name)
    }

    fn insert(&mut self, name: &str, value: &str) {
        let value = value.trim();
        if value.is_empty() {
            self.vars.remove(name);
        } else {
            self.vars.insert(name.to_owned(), value.to_owned());
        }
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }
}

/// Standard variables that map onto one key, lowest precedence first. Their
/// `O11Y_*` twins are applied after them and so win.
const STANDARD_VARS: &[(&str, Key)] = &[
    ("OTEL_RESOURCE_ATTRIBUTES", Key::ResourceAttributes),
    ("OTEL_SERVICE_NAME", Key::ServiceName),
    ("OTEL_EXPORTER_OTLP_ENDPOINT", Key::OtlpEndpoint),
    ("OTEL_EXPORTER_OTLP_PROTOCOL", Key::OtlpProtocol),
    ("RUST_LOG", Key::LogLevel),
];

const SAMPLER_VAR: &str = "OTEL_TRACES_SAMPLER";
const SAMPLER_ARG_VAR: &str = "OTEL_TRACES_SAMPLER_ARG";
const SDK_DISABLED_VAR: &str = "OTEL_SDK_DISABLED";

/// Everything the environment sets, in the order to apply it.
fn env_entries(env: &Env) -> Result<Vec<Entry>, ConfigError> {
    reject_unknown_env(env)?;
    let mut entries = Vec::new();
    for (var, key) in STANDARD_VARS {
        if let Some(text) = env.get(var) {
            entries.push(text_entry(*key, text, Origin::env(var))?);
        }
    }
    sampler_entries(env, &mut entries)?;
    sdk_disabled_entries(env, &mut entries)?;
    for def in KNOWN_KEYS {
        if let Some(text) = env.get(def.env) {
            entries.push(text_entry(def.key, text, Origin::env(def.env))?);
        }
    }
    Ok(entries)
}

fn text_entry(key: Key, text: &str, origin: Origin) -> Result<Entry, ConfigError> {
    match parse_text(key, text) {
        Ok(setting) => Ok(Entry {
            setting,
            raw: text.to_owned(),
            origin,
        }),
        Err(refusal) => Err(refusal.into_error(key, text, origin)),
    }
}

fn reject_unknown_env(env: &Env) -> Result<(), ConfigError> {
    let unknown = env
        .vars
        .keys()
        .filter(|v| v.starts_with("O11Y_"))
        .find(|v| !env_allowed(v) && Key::by_env(v).is_none());
    match unknown {
        None => Ok(()),
        Some(var) => Err(ConfigError::UnknownKey {
            key: var.clone(),
            origin: Origin::env(var),
            suggestion: suggest(var, &env_candidates()).map(str::to_owned),
        }),
    }
}

/// The rate half of an `OTEL_TRACES_SAMPLER` value.
enum SamplerRate {
    Fixed(f64),
    FromArg,
}

const SAMPLERS: &[(&str, SamplerRate, bool)] = &[
    ("always_on", SamplerRate::Fixed(1.0), false),
    ("always_off", SamplerRate::Fixed(0.0), false),
    ("traceidratio", SamplerRate::FromArg, false),
    ("parentbased_always_on", SamplerRate::Fixed(1.0), true),
    ("parentbased_always_off", SamplerRate::Fixed(0.0), true),
    ("parentbased_traceidratio", SamplerRate::FromArg, true),
];

/// `OTEL_TRACES_SAMPLER` sets the rate and parent-basedness;
/// `OTEL_TRACES_SAMPLER_ARG` the rate of the ratio samplers (or, with no
/// sampler named, the rate alone). A ratio sampler without an argument keeps
/// the rate configured so far rather than the spec's 1.0: here a rate always
/// exists (profile or file), and silently raising it to 100% would be the
/// costly surprise.
fn sampler_entries(env: &Env, entries: &mut Vec<Entry>) -> Result<(), ConfigError> {
    // Parsed even when it ends up unused, so a bad value never goes unseen.
    let arg = env
        .get(SAMPLER_ARG_VAR)
        .map(|text| text_entry(Key::SampleRate, text, Origin::env(SAMPLER_ARG_VAR)))
        .transpose()?;
    let Some(name) = env.get(SAMPLER_VAR) else {
        entries.extend(arg);
        return Ok(());
    };
    let origin = Origin::env(SAMPLER_VAR);
    let lower = name.to_ascii_lowercase();
    let Some((_, rate, parent_based)) = SAMPLERS.iter().find(|(n, ..)| *n == lower) else {
        let names: Vec<&str> = SAMPLERS.iter().map(|(n, ..)| *n).collect();
        return Err(ConfigError::Invalid {
            key: Key::SampleRate.def().name.to_owned(),
            value: name.to_owned(),
            origin,
            expected: format!("one of {}", names.join(", ")),
        });
    };
    match rate {
        SamplerRate::Fixed(r) => entries.push(Entry {
            setting: Setting::SampleRate(*r),
            raw: name.to_owned(),
            origin: origin.clone(),
        }),
        SamplerRate::FromArg => entries.extend(arg),
    }
    entries.push(Entry {
        setting: Setting::ParentBased(*parent_based),
        raw: name.to_owned(),
        origin,
    });
    Ok(())
}

/// `OTEL_SDK_DISABLED=true` turns off tracing and every OTLP export.
fn sdk_disabled_entries(env: &Env, entries: &mut Vec<Entry>) -> Result<(), ConfigError> {
    let Some(text) = env.get(SDK_DISABLED_VAR) else {
        return Ok(());
    };
    let origin = Origin::env(SDK_DISABLED_VAR);
    match text.to_ascii_lowercase().as_str() {
        "false" => Ok(()),
        "true" => {
            let off = [
                Setting::TracingEnabled(false),
                Setting::LogOtlpEnabled(false),
                Setting::MetricsOtlpEnabled(false),
            ];
            entries.extend(off.into_iter().map(|setting| Entry {
                setting,
                raw: text.to_owned(),
                origin: origin.clone(),
            }));
            Ok(())
        }
        _ => Err(ConfigError::Invalid {
            key: Key::TracingEnabled.def().name.to_owned(),
            value: text.to_owned(),
            origin,
            expected: "true or false".to_owned(),
        }),
    }
}

// ---------------------------------------------------------------------------
// Source: o11y.toml
// ---------------------------------------------------------------------------

/// The config file read when none is named, relative to the working directory.
const DEFAULT_CONFIG_FILE: &str = "./o11y.toml";
const CONFIG_FILE_VAR: &str = "O11Y_CONFIG";

/// Which config file to read, as chosen on the builder.
#[derive(Debug, Clone, Default)]
enum FileChoice {
    /// `O11Y_CONFIG`, else `./o11y.toml` when it exists.
    #[default]
    Auto,
    Path(PathBuf),
    None,
}

/// A located config file. `required` is false only for the default path,
/// whose absence is normal.
struct ConfigFile {
    path: PathBuf,
    named_by: Origin,
    required: bool,
}

fn locate_file(choice: &FileChoice, env: &Env) -> Option<ConfigFile> {
    let (path, named_by, required) = match choice {
        FileChoice::None => return None,
        FileChoice::Path(p) => (p.clone(), Origin::Builder, true),
        FileChoice::Auto => match env.get(CONFIG_FILE_VAR) {
            Some(p) => (PathBuf::from(p), Origin::env(CONFIG_FILE_VAR), true),
            None => (PathBuf::from(DEFAULT_CONFIG_FILE), Origin::Default, false),
        },
    };
    Some(ConfigFile {
        path,
        named_by,
        required,
    })
}

/// Reads and parses the file; `Ok(empty)` when the default file is absent.
fn file_entries(file: ConfigFile) -> Result<Vec<Entry>, ConfigError> {
    let bytes = match std::fs::read(&file.path) {
        Ok(bytes) => bytes,
        Err(e) if !file.required && e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Vec::new());
        }
        Err(source) => {
            return Err(ConfigError::Io {
                path: file.path,
                origin: file.named_by,
                source,
            });
        }
    };
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let text = String::from_utf8_lossy(valid);
            return Err(parse_error(
                &file.path,
                &text,
                text.len(),
                "not valid UTF-8",
            ));
        }
    };
    let table = DeTable::parse(&text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        parse_error(&file.path, &text, offset, e.message())
    })?;
    let reader = FileReader {
        path: &file.path,
        text: &text,
    };
    let mut entries = Vec::new();
    reader.read_table(table.get_ref(), None, &mut entries)?;
    // Apply in table order, not file order, so the result does not depend
    // on how the file is arranged (see KNOWN_KEYS). The sort is stable.
    entries.sort_by_key(|e| e.setting.key() as usize);
    Ok(entries)
}

fn parse_error(path: &Path, text: &str, offset: usize, message: &str) -> ConfigError {
    let (line, column) = line_column(text, offset);
    ConfigError::Parse {
        path: path.to_owned(),
        line,
        column,
        message: message.to_owned(),
    }
}

/// Walks a parsed file, turning values into entries with their positions.
struct FileReader<'a> {
    path: &'a Path,
    text: &'a str,
}

impl FileReader<'_> {
    fn origin(&self, offset: usize) -> Origin {
        Origin::in_file(self.path, self.text, offset)
    }

    /// The source text of a value, for error messages; a string's contents.
    fn raw(&self, value: &Spanned<DeValue<'_>>) -> String {
        match value.get_ref() {
            DeValue::String(s) => s.to_string(),
            other => self
                .text
                .get(value.span())
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .unwrap_or(other.type_str())
                .to_owned(),
        }
    }

    fn read_table(
        &self,
        table: &DeTable<'_>,
        section: Option<&str>,
        entries: &mut Vec<Entry>,
    ) -> Result<(), ConfigError> {
        for (name, value) in table.iter() {
            let dotted = match section {
                Some(section) => format!("{section}.{}", name.get_ref()),
                None => name.get_ref().to_string(),
            };
            if let Some(def) = Key::by_name(&dotted) {
                self.read_value(def, value, entries)?;
            } else if section.is_none() && is_section(&dotted) {
                let DeValue::Table(inner) = value.get_ref() else {
                    return Err(ConfigError::Invalid {
                        key: dotted.clone(),
                        value: self.raw(value),
                        origin: self.origin(value.span().start),
                        expected: format!("a [{dotted}] table"),
                    });
                };
                self.read_table(inner, Some(&dotted), entries)?;
            } else {
                return Err(ConfigError::UnknownKey {
                    suggestion: suggest(&dotted, &file_key_candidates(section.is_none()))
                        .map(str::to_owned),
                    key: dotted,
                    origin: self.origin(name.span().start),
                });
            }
        }
        Ok(())
    }

    fn read_value(
        &self,
        def: &KnownKey,
        value: &Spanned<DeValue<'_>>,
        entries: &mut Vec<Entry>,
    ) -> Result<(), ConfigError> {
        if let (Kind::Table, DeValue::Table(table)) = (def.kind, value.get_ref()) {
            return self.read_attribute_table(def, table, entries);
        }
        let raw = self.raw(value);
        let origin = self.origin(value.span().start);
        match from_toml(def, value.get_ref()) {
            Ok(setting) => {
                entries.push(Entry {
                    setting,
                    raw,
                    origin,
                });
                Ok(())
            }
            Err(refusal) => Err(refusal.into_error(def.key, &raw, origin)),
        }
    }

    /// `[resource_attributes]`: each entry a string, reported at its own
    /// position.
    fn read_attribute_table(
        &self,
        def: &KnownKey,
        table: &DeTable<'_>,
        entries: &mut Vec<Entry>,
    ) -> Result<(), ConfigError> {
        for (name, value) in table.iter() {
            let raw = self.raw(value);
            let origin = self.origin(value.span().start);
            let DeValue::String(text) = value.get_ref() else {
                let found = format!("found a TOML {}", value.get_ref().type_str());
                return Err(Refusal::because(found).into_error(def.key, &raw, origin));
            };
            entries.push(Entry {
                setting: Setting::ResourceAttributes(vec![(
                    name.get_ref().to_string(),
                    text.to_string(),
                )]),
                raw,
                origin,
            });
        }
        Ok(())
    }
}

/// Reads a TOML value of `def`. Strings go through [`parse_text`], like
/// environment values; native TOML types are accepted where they fit.
fn from_toml(def: &KnownKey, value: &DeValue<'_>) -> Result<Setting, Refusal> {
    let mismatch = || Refusal::because(format!("found a TOML {}", value.type_str()));
    match (def.kind, value) {
        (_, DeValue::String(text)) => parse_text(def.key, text),
        (Kind::Bool, DeValue::Boolean(b)) => parse_text(def.key, if *b { "true" } else { "false" }),
        (Kind::Number, DeValue::Float(f)) => parse_text(def.key, f.as_str()),
        (Kind::Number | Kind::Duration, DeValue::Integer(i)) => {
            // Radix-aware (0x10), then as decimal text; an integer too big
            // for i64 is refused rather than wrapped.
            let n = i64::from_str_radix(i.as_str(), i.radix()).map_err(|_| mismatch())?;
            parse_text(def.key, &n.to_string())
        }
        _ => Err(mismatch()),
    }
}

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
#[derive(Debug, Clone, Default)]
pub struct ConfigBuilder {
    settings: Vec<Setting>,
    file: FileChoice,
    env: Option<Vec<(String, String)>>,
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

    /// `tracing.otlp_endpoint`, an `http://` or `https://` URL.
    #[must_use]
    pub fn otlp_endpoint(self, url: impl Into<String>) -> Self {
        self.with(Setting::OtlpEndpoint(url.into()))
    }

    /// `tracing.otlp_protocol`.
    #[must_use]
    pub fn otlp_protocol(self, protocol: OtlpProtocol) -> Self {
        self.with(Setting::OtlpProtocol(protocol))
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
        let from_builder = self.settings.into_iter().map(|setting| Entry {
            raw: setting.to_string(),
            setting,
            origin: Origin::Builder,
        });
        let entries: Vec<Entry> = from_file
            .into_iter()
            .chain(from_env)
            .chain(from_builder)
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
    fn known_keys_follow_the_enum_order() {
        for (i, def) in KNOWN_KEYS.iter().enumerate() {
            assert_eq!(def.key as usize, i, "{} is out of place", def.name);
        }
    }

    #[test]
    fn env_names_follow_the_dotted_names() {
        for def in KNOWN_KEYS {
            let expected = format!("O11Y_{}", def.name.replace('.', "_").to_ascii_uppercase());
            assert_eq!(def.env, expected);
        }
    }

    #[test]
    fn module_docs_list_every_key() {
        let source = include_str!("mod.rs");
        let docs: String = source.lines().filter(|l| l.starts_with("//!")).collect();
        for def in KNOWN_KEYS {
            assert!(docs.contains(&format!("`{}`", def.name)), "{}", def.name);
            assert!(docs.contains(&format!("`{}`", def.env)), "{}", def.env);
        }
    }

    #[test]
    fn bools_accept_the_usual_spellings() {
        for yes in ["true", "TRUE", "1", "yes", "On", " on "] {
            assert_eq!(parse_bool(yes), Ok(true), "{yes}");
        }
        for no in ["false", "False", "0", "no", "OFF"] {
            assert_eq!(parse_bool(no), Ok(false), "{no}");
        }
        for bad in ["", "2", "y", "enabled", "truee"] {
            assert!(parse_bool(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn durations_accept_humantime_and_milliseconds() {
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1500"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("-5").is_err());
    }

    #[test]
    fn attributes_are_split_trimmed_and_percent_decoded() {
        let parsed = parse_attributes(" team = payments , region=eu%20west%2C1,, a=b=c ");
        let expected = [("team", "payments"), ("region", "eu west,1"), ("a", "b=c")];
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(parsed, Ok(expected));
        assert_eq!(parse_attributes(""), Ok(vec![]));
    }

    #[test]
    fn attributes_reject_bad_items() {
        assert!(parse_attributes("novalue").is_err());
        assert!(parse_attributes("=x").is_err());
        assert!(parse_attributes("a=%zz").is_err());
        assert!(parse_attributes("a=%4").is_err());
        assert!(parse_attributes("a=%ff").is_err(), "not UTF-8");
        assert_eq!(percent_decode("%C3%A9"), Some("é".to_owned()));
    }

    #[test]
    fn did_you_mean_finds_typos() {
        let file = file_key_candidates(true);
        assert_eq!(
            suggest("tracing.sample_rat", &file),
            Some("tracing.sample_rate")
        );
        assert_eq!(suggest("tracin", &file), Some("tracing"));
        assert_eq!(suggest("logging.levle", &file), Some("logging.level"));
        let env = env_candidates();
        assert_eq!(
            suggest("O11Y_TRACING_SAMPEL_RATE", &env),
            Some("O11Y_TRACING_SAMPLE_RATE")
        );
        assert_eq!(suggest("O11Y_CONFG", &env), Some("O11Y_CONFIG"));
    }

    #[test]
    fn did_you_mean_finds_keys_in_the_wrong_section() {
        let file = file_key_candidates(true);
        assert_eq!(suggest("tracing.level", &file), Some("logging.level"));
        assert_eq!(suggest("sample_rate", &file), Some("tracing.sample_rate"));
    }

    #[test]
    fn did_you_mean_stays_quiet_for_unrelated_names() {
        assert_eq!(suggest("database", &file_key_candidates(true)), None);
        assert_eq!(suggest("tracing.foo", &file_key_candidates(false)), None);
        assert_eq!(suggest("O11Y_TRACING_FOO", &env_candidates()), None);
    }

    #[test]
    fn env_allowlist_matches_names_and_prefixes() {
        assert!(env_allowed("O11Y_CONFIG"));
        assert!(env_allowed("O11Y_PROFILE"));
        assert!(env_allowed("O11Y_REQUIRE_PEERS"));
        assert!(env_allowed("O11Y_TEST_ANYTHING"));
        assert!(!env_allowed("O11Y_CONFIGS"));
        assert!(!env_allowed("O11Y_TRACING_SAMPEL_RATE"));
    }

    #[test]
    fn endpoints_need_http_scheme_and_host() {
        assert!(check_endpoint("http://localhost:4317").is_ok());
        assert!(check_endpoint("https://otel.example.com/v1/traces").is_ok());
        assert!(check_endpoint("http://[::1]:4318").is_ok());
        assert_eq!(
            check_endpoint("localhost:4317"),
            Err(Refusal::because("a scheme is required"))
        );
        assert!(check_endpoint("ftp://x").is_err());
        assert!(check_endpoint("http://").is_err());
    }

    #[test]
    fn filters_follow_rust_log_and_catch_level_typos() {
        let targets = [
            "my_crate", "mio", "io", "tokio", "tracing", "log", "offset", "rand",
        ];
        for ok in ["info", "INFO", "info,sqlx=warn", "hyper=off"]
            .iter()
            .chain(&targets)
        {
            assert!(check_filter(ok).is_ok(), "{ok}");
        }
        for bad in ["", "inof", "warning", "debgu", "info,foo=bogus", "=", "[{"] {
            assert!(check_filter(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn service_names_become_safe_path_components() {
        assert_eq!(path_component("checkout-api"), "checkout-api");
        assert_eq!(path_component("../etc/passwd"), ".._etc_passwd");
        assert_eq!(path_component(".."), "__");
        assert_eq!(path_component("a b/c"), "a_b_c");
    }

    #[test]
    fn empty_environment_values_are_unset() {
        let env = Env::from_pairs(&[
            ("A".to_owned(), "".to_owned()),
            ("B".to_owned(), "  ".to_owned()),
            ("C".to_owned(), " x ".to_owned()),
        ]);
        assert_eq!(env.get("A"), None);
        assert_eq!(env.get("B"), None);
        assert_eq!(env.get("C"), Some("x"));
    }
}
