//! The table of known keys: [`KNOWN_KEYS`], one [`KnownKey`] per
//! configuration key with its `o11y.toml` name, `O11Y_*` variable and
//! accepted values, the lookups on it, and the did-you-mean suggestions for
//! names that are not in it.
//!
//! The keys, their variables and value syntax are listed in the
//! [`config`](super) module docs, from [`KNOWN_KEYS`].

use super::Profile;

/// A known key. Declared in the same order as [`KNOWN_KEYS`], which is also
/// the order values of one source are applied in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Key {
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
    MetricsEndpoint,
    MetricsListen,
    MetricsSeriesCap,
    MetricsAllowFrom,
    MetricsBearerToken,
    MetricsOtlpInterval,
    HttpAccessLog,
    HttpExcludePaths,
    DbNPlusOneThreshold,
    DbNPlusOneMinDuration,
    DbNPlusOneAllowlist,
    DbNPlusOneMode,
    DbCaptureParameters,
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
    /// [`Key::list_separator`].
    List,
}

/// One configuration key: its dotted `o11y.toml` name, its `O11Y_*`
/// environment variable, and what values it accepts.
#[derive(Debug)]
pub struct KnownKey {
    pub(super) key: Key,
    pub(super) name: &'static str,
    pub(super) env: &'static str,
    pub(super) kind: Kind,
    pub(super) expected: &'static str,
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
    KnownKey {
        key: Key::MetricsEndpoint,
        name: "metrics.endpoint",
        env: "O11Y_METRICS_ENDPOINT",
        kind: Kind::Text,
        expected: "a URL path starting with /, like \"/metrics\", made of letters, digits \
                   and - . _ ~ / (no query, no spaces)",
    },
    KnownKey {
        key: Key::MetricsListen,
        name: "metrics.listen",
        env: "O11Y_METRICS_LISTEN",
        kind: Kind::Text,
        expected: "an IP address and port, like \"127.0.0.1:9464\", \"0.0.0.0:9464\" \
                   or \"[::1]:9464\"",
    },
    KnownKey {
        key: Key::MetricsSeriesCap,
        name: "metrics.series_cap",
        env: "O11Y_METRICS_SERIES_CAP",
        kind: Kind::Integer,
        expected: "a whole number of at least 1 (label sets kept per metric)",
    },
    KnownKey {
        key: Key::MetricsAllowFrom,
        name: "metrics.allow_from",
        env: "O11Y_METRICS_ALLOW_FROM",
        kind: Kind::List,
        expected: "IP networks in CIDR notation separated by commas, like \
                   \"127.0.0.1/32,10.0.0.0/8\" (a bare IP address means that one address; \
                   in o11y.toml, also an array of strings)",
    },
    KnownKey {
        key: Key::MetricsBearerToken,
        name: "metrics.bearer_token",
        env: "O11Y_METRICS_BEARER_TOKEN",
        kind: Kind::Text,
        expected: "a non-empty token of visible ASCII characters, without spaces",
    },
    KnownKey {
        key: Key::MetricsOtlpInterval,
        name: "metrics.otlp_interval",
        env: "O11Y_METRICS_OTLP_INTERVAL",
        kind: Kind::Duration,
        expected: "a duration from 1s to 1h, like \"60s\" or \"1m\", \
                   or a whole number of milliseconds",
    },
    KnownKey {
        key: Key::HttpAccessLog,
        name: "http.access_log",
        env: "O11Y_HTTP_ACCESS_LOG",
        kind: Kind::Bool,
        expected: EXPECT_BOOL,
    },
    KnownKey {
        key: Key::HttpExcludePaths,
        name: "http.exclude_paths",
        env: "O11Y_HTTP_EXCLUDE_PATHS",
        kind: Kind::List,
        expected: "URL paths separated by commas, like \"/health,/ready\", each starting \
                   with / and made of letters, digits and - . _ ~ / (in o11y.toml, also an \
                   array of strings)",
    },
    KnownKey {
        key: Key::DbNPlusOneThreshold,
        name: "db.n_plus_one.threshold",
        env: "O11Y_DB_N_PLUS_ONE_THRESHOLD",
        kind: Kind::Integer,
        expected: "a whole number from 2 to 1000000 (queries of one shape in one scope)",
    },
    KnownKey {
        key: Key::DbNPlusOneMinDuration,
        name: "db.n_plus_one.min_duration",
        env: "O11Y_DB_N_PLUS_ONE_MIN_DURATION",
        kind: Kind::Duration,
        expected: "a duration of at most 1h, like \"50ms\" or \"0s\" (no minimum), \
                   or a whole number of milliseconds",
    },
    KnownKey {
        key: Key::DbNPlusOneAllowlist,
        name: "db.n_plus_one.allowlist",
        env: "O11Y_DB_N_PLUS_ONE_ALLOWLIST",
        kind: Kind::List,
        expected: "patterns separated by ';' (statements contain commas), each a scope name \
                   (a function, a route) or a statement, where * matches anything, like \
                   \"load_settings;SELECT * FROM flags WHERE name = ?\" \
                   (in o11y.toml, also an array of strings)",
    },
    KnownKey {
        key: Key::DbNPlusOneMode,
        name: "db.n_plus_one.mode",
        env: "O11Y_DB_N_PLUS_ONE_MODE",
        kind: Kind::Text,
        expected: "warn (log and count each N+1), raise (also panic when the scope ends, \
                   for test suites) or off",
    },
    KnownKey {
        key: Key::DbCaptureParameters,
        name: "db.capture_parameters",
        env: "O11Y_DB_CAPTURE_PARAMETERS",
        kind: Kind::Bool,
        expected: EXPECT_BOOL,
    },
];

impl Key {
    /// A key whose values error messages must not show.
    pub(super) fn is_secret(self) -> bool {
        self == Key::MetricsBearerToken
    }

    pub(super) fn def(self) -> &'static KnownKey {
        // KNOWN_KEYS lists the keys in declaration order (checked by a test).
        &KNOWN_KEYS[self as usize]
    }

    /// What separates the items of a [`Kind::List`] value written as one
    /// string (and joins the items of a TOML array).
    pub(super) fn list_separator(self) -> char {
        match self {
            Key::DbNPlusOneAllowlist => ';',
            _ => ',',
        }
    }

    pub(super) fn by_name(name: &str) -> Option<&'static KnownKey> {
        KNOWN_KEYS.iter().find(|k| k.name == name)
    }

    pub(super) fn by_env(var: &str) -> Option<&'static KnownKey> {
        KNOWN_KEYS.iter().find(|k| k.env == var)
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
mod tests {
    use super::*;
    use crate::config::env::env_candidates;
    use crate::config::file::file_key_candidates;

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
}
