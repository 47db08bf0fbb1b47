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
use super::{BacktraceMode, ConfigError, LogFormat, NO_TLS, NPlusOneMode, Origin, OtlpProtocol};

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
pub(super) struct Refusal(pub(super) Option<String>);

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

/// A duration (see [`parse_duration`]), or `off` for none.
pub(super) fn parse_threshold(text: &str) -> Result<Option<Duration>, Refusal> {
    if text.trim().eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    parse_duration(text).map(Some)
}

/// A size in bytes: a whole number, or one followed by a binary unit
/// (`KiB`, `MiB`, `GiB`; also written `K`, `M`, `G`, any case).
pub(super) fn parse_bytes(text: &str) -> Result<usize, Refusal> {
    let text = text.trim();
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let number: usize = number.parse().map_err(|_| Refusal::plain())?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kib" => 10,
        "m" | "mib" => 20,
        "g" | "gib" => 30,
        _ => return Err(Refusal::plain()),
    };
    number.checked_mul(1 << shift).ok_or_else(Refusal::plain)
}

pub(super) fn parse_mode(text: &str) -> Result<NPlusOneMode, Refusal> {
    match text.trim().to_ascii_lowercase().as_str() {
        "warn" => Ok(NPlusOneMode::Warn),
        "raise" => Ok(NPlusOneMode::Raise),
        "off" => Ok(NPlusOneMode::Off),
        _ => Err(Refusal::plain()),
    }
}

pub(super) fn parse_backtrace(text: &str) -> Result<BacktraceMode, Refusal> {
    match text.trim().to_ascii_lowercase().as_str() {
        "auto" => Ok(BacktraceMode::Auto),
        "on" => Ok(BacktraceMode::On),
        "off" => Ok(BacktraceMode::Off),
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

/// A header name as HTTP allows it (`x-tenant`), refused with the name
/// quoted.
pub(super) fn check_header_name(name: &str) -> Result<(), Refusal> {
    match http::HeaderName::from_bytes(name.as_bytes()) {
        Ok(_) => Ok(()),
        Err(_) => Err(Refusal::because(format!(
            "{name:?} is not a header name (letters, digits and ! # $ % & ' * + - . ^ _ ` | ~)"
        ))),
    }
}

/// A name for the redaction key rule: it must keep a letter or a digit
/// once case, `-`, `_`, `.` and spaces are set aside, as names are compared.
pub(super) fn check_key_name(name: &str) -> Result<(), Refusal> {
    if name.chars().any(char::is_alphanumeric) {
        Ok(())
    } else {
        Err(Refusal::because(format!(
            "{name:?} has no letter or digit, so it names nothing"
        )))
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
mod tests;
