//! Single values: the parsers and checks the key table names (so a value
//! is read and validated the same way whichever source it came from),
//! [`Entry`], a setting with where it came from, and [`Refusal`], why a
//! value was refused.

use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use ipnet::IpNet;

use super::table::Redact;
use crate::percent;

pub(super) use super::keys::{Key, Setting, check, parse_list, parse_text};
use super::{ConfigError, LogFormat, NO_TLS, NPlusOneMode, Origin, OtlpProtocol};

/// A setting with the text it was read from and where.
#[derive(Debug)]
pub(super) struct Entry {
    pub(super) setting: Setting,
    /// The value as written, for error messages.
    pub(super) raw: String,
    pub(super) origin: Origin,
}

/// Why a value was refused: the key's `expected` text, plus a detail when
/// one helps (which scheme, which TOML type, the filter parser's reason),
/// shown after a semicolon.
#[derive(Debug, PartialEq)]
pub(super) struct Refusal(Option<String>);

impl Refusal {
    pub(super) fn plain() -> Refusal {
        Refusal(None)
    }

    pub(super) fn because(detail: impl Into<String>) -> Refusal {
        Refusal(Some(detail.into()))
    }

    pub(super) fn into_error(self, key: Key, raw: &str, origin: Origin) -> ConfigError {
        let def = key.def();
        let expected = match self.0 {
            Some(detail) => format!("{}; {detail}", def.expected),
            None => def.expected.to_owned(),
        };
        let value = match def.redact {
            Redact::Secret => Cow::Borrowed(redacted(raw)),
            Redact::Credentials => without_credentials(raw),
            Redact::None => Cow::Borrowed(raw),
        };
        ConfigError::Invalid {
            key: def.name.to_owned(),
            value: value.into_owned(),
            origin,
            expected,
        }
    }
}

/// `url` as messages show it: without a user or password it carries (logs
/// and terminals are read by more people than the configuration).
pub(crate) fn without_credentials(url: &str) -> Cow<'_, str> {
    match url::Url::parse(url.trim()) {
        Ok(mut parsed) if !parsed.username().is_empty() || parsed.password().is_some() => {
            // Only fails for URLs that cannot have credentials.
            let _ = parsed.set_password(None);
            let _ = parsed.set_username("");
            Cow::Owned(parsed.to_string())
        }
        _ => Cow::Borrowed(url),
    }
}

/// What error messages and `Debug` output show for a secret: nothing of it.
pub(super) fn redacted(secret: &str) -> &'static str {
    if secret.is_empty() { "" } else { "***" }
}

// ---------------------------------------------------------------------------
// Parsing text (environment values and o11y.toml strings)
// ---------------------------------------------------------------------------

pub(super) fn parse_socket_addr(text: &str) -> Result<SocketAddr, Refusal> {
    let text = text.trim();
    text.parse().map_err(|_| {
        if text.parse::<IpAddr>().is_ok() {
            Refusal::because("the port is missing")
        } else if text
            .rsplit_once(':')
            .is_some_and(|(host, _)| host.parse::<IpAddr>().is_err())
        {
            Refusal::because("a host name is not allowed here, only an IP address")
        } else {
            Refusal::plain()
        }
    })
}

/// A network (`10.0.0.0/8`) or an address (`127.0.0.1`, one address: /32
/// or /128).
pub(super) fn parse_net(item: &str) -> Result<IpNet, Refusal> {
    let net = if item.contains('/') {
        item.parse::<IpNet>().ok().map(|net| net.trunc())
    } else {
        item.parse::<IpAddr>().ok().map(IpNet::from)
    };
    net.ok_or_else(|| Refusal::because(format!("{item:?} is not an IP network or address")))
}

/// One path of a list, refused with the path named.
pub(super) fn check_listed_path(path: &str) -> Result<(), Refusal> {
    check_path(path).map_err(|Refusal(detail)| {
        let detail = detail.map_or_else(String::new, |d| format!(": {d}"));
        Refusal::because(format!("{path:?} is not a path{detail}"))
    })
}

pub(super) fn parse_bool(text: &str) -> Result<bool, Refusal> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(Refusal::plain()),
    }
}

pub(super) fn parse_number(text: &str) -> Result<f64, Refusal> {
    text.trim().parse().map_err(|_| Refusal::plain())
}

/// A whole number; no sign, no fraction.
pub(super) fn parse_whole<T: std::str::FromStr>(text: &str) -> Result<T, Refusal> {
    text.trim().parse().map_err(|_| Refusal::plain())
}

/// humantime syntax (`5s`, `1m 30s`, `250ms`), or bare milliseconds.
pub(super) fn parse_duration(text: &str) -> Result<Duration, Refusal> {
    let text = text.trim();
    if let Ok(millis) = text.parse::<u64>() {
        return Ok(Duration::from_millis(millis));
    }
    // humantime's own message ("expected number at 0") would only muddle
    // the expected text, which already shows the syntax.
    humantime::parse_duration(text).map_err(|_| Refusal::plain())
}

pub(super) fn parse_mode(text: &str) -> Result<NPlusOneMode, Refusal> {
    match text.trim().to_ascii_lowercase().as_str() {
        "warn" => Ok(NPlusOneMode::Warn),
        "raise" => Ok(NPlusOneMode::Raise),
        "off" => Ok(NPlusOneMode::Off),
        _ => Err(Refusal::plain()),
    }
}

pub(super) fn parse_protocol(text: &str) -> Result<OtlpProtocol, Refusal> {
    // `http/protobuf` is how OTEL_EXPORTER_OTLP_PROTOCOL spells it.
    match text.trim().to_ascii_lowercase().as_str() {
        "grpc" => Ok(OtlpProtocol::Grpc),
        "http" | "http/protobuf" => Ok(OtlpProtocol::Http),
        _ => Err(Refusal::plain()),
    }
}

pub(super) fn parse_format(text: &str) -> Result<LogFormat, Refusal> {
    match text.trim().to_ascii_lowercase().as_str() {
        "console" => Ok(LogFormat::Console),
        "json" => Ok(LogFormat::Json),
        _ => Err(Refusal::plain()),
    }
}

/// `k=v,k2=v2`, the `OTEL_RESOURCE_ATTRIBUTES` syntax (W3C-baggage-like):
/// names and values trimmed, then percent-decoded (a `,` or `=` in either
/// must be encoded), empty items skipped.
pub(super) fn parse_attributes(text: &str) -> Result<Vec<(String, String)>, Refusal> {
    let decoded = |part: &str| {
        percent::decode(part.trim())
            .ok_or_else(|| Refusal::because(format!("{part:?} is not valid percent-encoded UTF-8")))
    };
    let mut pairs = Vec::new();
    for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let Some((name, value)) = item.split_once('=') else {
            return Err(Refusal::because(format!("{item:?} has no '='")));
        };
        let name = decoded(name)?;
        if name.trim().is_empty() {
            return Err(Refusal::because(format!("{item:?} has no name")));
        }
        pairs.push((name, decoded(value)?));
    }
    Ok(pairs)
}

// ---------------------------------------------------------------------------
// Validation (every source)
// ---------------------------------------------------------------------------

/// A refusal without detail when `bad`: for range checks, whose bounds
/// the key's `expected` text already states.
pub(super) fn refuse_if(bad: bool) -> Result<(), Refusal> {
    if bad { Err(Refusal::plain()) } else { Ok(()) }
}

/// A path both servers can route: `/`, then unreserved URL characters and
/// `/` (no `{capture}`, `:name` or `*` that a router would read as a pattern).
pub(super) fn check_path(path: &str) -> Result<(), Refusal> {
    if !path.starts_with('/') {
        return Err(Refusal::because("it does not start with /"));
    }
    match path
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "-._~/".contains(*c)))
    {
        None => Ok(()),
        Some(c) if c.is_whitespace() => Err(Refusal::because("it contains whitespace")),
        Some(c) => Err(Refusal::because(format!("{c:?} is not allowed"))),
    }
}

/// What an `Authorization: Bearer` header can carry. The refusal never
/// quotes the token.
pub(super) fn check_token(token: &str) -> Result<(), Refusal> {
    if token.is_empty() {
        Err(Refusal::because("it is empty"))
    } else if token.chars().any(char::is_whitespace) {
        Err(Refusal::because("it contains whitespace"))
    } else if !token.chars().all(|c| c.is_ascii_graphic()) {
        Err(Refusal::because(
            "it contains a control or non-ASCII character",
        ))
    } else {
        Ok(())
    }
}

pub(super) fn check_endpoint(text: &str) -> Result<(), Refusal> {
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
    if url.scheme() == "https" && !cfg!(feature = "tls") {
        return Err(Refusal::because(NO_TLS));
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

pub(super) fn check_filter(filter: &str) -> Result<(), Refusal> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn n_plus_one_settings_are_parsed_and_bounded() {
        assert_eq!(
            parse_text(Key::DbNPlusOneThreshold, " 7 "),
            Ok(Setting::DbNPlusOneThreshold(7))
        );
        assert!(parse_text(Key::DbNPlusOneThreshold, "-1").is_err());
        assert!(check(&Setting::DbNPlusOneThreshold(1)).is_err());
        assert!(check(&Setting::DbNPlusOneThreshold(2)).is_ok());
        assert_eq!(
            parse_text(Key::DbNPlusOneMinDuration, "0"),
            Ok(Setting::DbNPlusOneMinDuration(Duration::ZERO))
        );
        assert!(check(&Setting::DbNPlusOneMinDuration(Duration::from_secs(7200))).is_err());
        assert_eq!(
            parse_text(
                Key::DbNPlusOneAllowlist,
                " load_flags ; SELECT a, b FROM t WHERE id = ? ;;"
            ),
            Ok(Setting::DbNPlusOneAllowlist(vec![
                "load_flags".into(),
                "SELECT a, b FROM t WHERE id = ?".into()
            ]))
        );
        for (text, mode) in [
            ("warn", NPlusOneMode::Warn),
            ("RAISE", NPlusOneMode::Raise),
            (" off ", NPlusOneMode::Off),
        ] {
            assert_eq!(
                parse_text(Key::DbNPlusOneMode, text),
                Ok(Setting::DbNPlusOneMode(mode))
            );
        }
        assert!(parse_text(Key::DbNPlusOneMode, "panic").is_err());
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
    }

    #[test]
    fn endpoints_need_http_scheme_and_host() {
        assert!(check_endpoint("http://localhost:4317").is_ok());
        assert_eq!(
            check_endpoint("https://otel.example.com/v1/traces").is_ok(),
            cfg!(feature = "tls"),
            "https needs the tls feature"
        );
        assert!(check_endpoint("http://[::1]:4318").is_ok());
        assert_eq!(
            check_endpoint("localhost:4317"),
            Err(Refusal::because("a scheme is required"))
        );
        assert!(check_endpoint("ftp://x").is_err());
        assert!(check_endpoint("http://").is_err());
    }

    fn parse_nets(text: &str) -> Result<Vec<IpNet>, Refusal> {
        match parse_text(Key::MetricsAllowFrom, text)? {
            Setting::MetricsAllowFrom(nets) => Ok(nets),
            other => panic!("{other:?}"),
        }
    }

    fn parse_paths(text: &str) -> Result<Vec<String>, Refusal> {
        match parse_text(Key::HttpExcludePaths, text)? {
            Setting::HttpExcludePaths(paths) => Ok(paths),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn urls_are_shown_without_credentials() {
        assert_eq!(
            without_credentials("http://user:s3cret@127.0.0.1:4317"),
            "http://127.0.0.1:4317/"
        );
        assert_eq!(
            without_credentials("https://token@collector:4318/v1/traces"),
            "https://collector:4318/v1/traces"
        );
        assert_eq!(
            without_credentials("http://127.0.0.1:4317"),
            "http://127.0.0.1:4317"
        );
        let refused = Refusal::plain().into_error(
            Key::OtlpEndpoint,
            "ftp://user:s3cret@collector",
            Origin::Builder,
        );
        assert!(!refused.to_string().contains("s3cret"), "{refused}");
    }

    #[test]
    fn networks_accept_cidrs_and_bare_addresses() {
        let nets = parse_nets(" 127.0.0.1/32, 10.1.2.3/8 ,::1,, 192.168.0.7").unwrap();
        let shown: Vec<String> = nets.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            ["127.0.0.1/32", "10.0.0.0/8", "::1/128", "192.168.0.7/32"]
        );
        assert_eq!(parse_nets(""), Ok(vec![]));
        assert!(parse_nets("10.0.0.0/33").is_err());
        assert!(parse_nets("localhost").is_err());
        assert!(parse_nets("10.0.0.0/8;127.0.0.1").is_err());
    }

    #[test]
    fn listen_addresses_need_an_ip_and_a_port() {
        assert_eq!(
            parse_socket_addr("127.0.0.1:9464"),
            Ok("127.0.0.1:9464".parse().unwrap())
        );
        assert_eq!(
            parse_socket_addr("[::1]:9464"),
            Ok("[::1]:9464".parse().unwrap())
        );
        assert_eq!(
            parse_socket_addr("127.0.0.1"),
            Err(Refusal::because("the port is missing"))
        );
        assert_eq!(
            parse_socket_addr("localhost:9464"),
            Err(Refusal::because(
                "a host name is not allowed here, only an IP address"
            ))
        );
        assert!(parse_socket_addr("127.0.0.1:99999").is_err());
    }

    #[test]
    fn endpoint_paths_are_routable() {
        for ok in ["/metrics", "/", "/internal/metrics-v2", "/a.b~c_d"] {
            assert!(check_path(ok).is_ok(), "{ok}");
        }
        for bad in [
            "metrics",
            "",
            "/metrics?x=1",
            "/me trics",
            "/{id}",
            "/a#b",
            "/%20",
        ] {
            assert!(check_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn excluded_paths_are_a_list_of_routable_paths() {
        assert_eq!(
            parse_paths(" /health, /ready ,, /metrics"),
            Ok(vec!["/health".into(), "/ready".into(), "/metrics".into()])
        );
        assert_eq!(parse_paths(""), Ok(vec![]));
        assert_eq!(
            parse_paths("/health,/a b"),
            Err(Refusal::because(
                "\"/a b\" is not a path: it contains whitespace"
            ))
        );
        let ok = Setting::HttpExcludePaths(vec!["/health".into(), "/internal/ping".into()]);
        assert!(check(&ok).is_ok());
        assert!(check(&Setting::HttpExcludePaths(vec![])).is_ok());
        let bad = Setting::HttpExcludePaths(vec!["/health".into(), "ready".into()]);
        assert_eq!(
            check(&bad),
            Err(Refusal::because(
                "\"ready\" is not a path: it does not start with /"
            ))
        );
    }

    #[test]
    fn tokens_are_visible_ascii_and_never_shown() {
        assert!(check_token("s3cr3t-Token_~+/=").is_ok());
        assert!(check_token("").is_err());
        assert!(check_token("two words").is_err());
        assert!(check_token("tab\there").is_err());
        assert!(check_token("café").is_err());
        let error = Refusal::because("it contains whitespace").into_error(
            Key::MetricsBearerToken,
            "hunter2 hunter2",
            Origin::Builder,
        );
        assert!(!error.to_string().contains("hunter2"), "{error}");
        assert_eq!(
            Setting::MetricsBearerToken("hunter2".into()).to_string(),
            "***"
        );
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
}
