//! The `[redaction]` section as plain data: whether redaction is on, the
//! names added to and exempted from the key rule, which value patterns run
//! ([`RedactionPattern`]: a built-in turned on or off, or a custom regular
//! expression), and the replacement text; with the parsing and checking of
//! a pattern item. What the rules do with it is the runtime's `redact`
//! module's.

use std::fmt;

use super::Profile;
use super::keys::k;
use super::table::default;
use super::value::Refusal;

/// The `[redaction]` section: what is scrubbed from span attributes, span
/// events, log fields and messages, error texts, URLs and captured headers
/// before they are written or exported.
///
/// Two rules apply. The key rule replaces the whole value of a field,
/// attribute, query parameter or header whose name is sensitive
/// (`password`, `api_key`, `token`, `authorization`, `cookie`, `email`,
/// `ssn`, … compared without case, `-`, `_` and `.`), plus
/// [`keys`](Self::keys) and minus [`allow_keys`](Self::allow_keys). The
/// value rule replaces what [`patterns`](Self::patterns) find in text
/// values: e-mail addresses, payment card numbers (Luhn-checked), JWTs,
/// `Bearer` credentials, AWS access key ids, PEM private keys and US SSNs
/// by default. `docs/redaction.md` lists every name and pattern.
///
/// ```
/// use o11y_runtime::config::{BuiltinPattern, Config, RedactionPattern};
/// let config = Config::builder()
///     .no_config_file()
///     .env_vars([
///         ("O11Y_REDACTION_KEYS", "customer_name,order_note"),
///         ("O11Y_REDACTION_PATTERNS", r"-email;+phone;re:ord-\d{6}"),
///     ])
///     .build()?;
/// assert!(config.redaction.enabled);
/// assert_eq!(config.redaction.keys, ["customer_name", "order_note"]);
/// assert_eq!(
///     config.redaction.patterns,
///     [
///         RedactionPattern::Off(BuiltinPattern::Email),
///         RedactionPattern::On(BuiltinPattern::Phone),
///         RedactionPattern::Custom(r"ord-\d{6}".to_owned()),
///     ]
/// );
/// assert_eq!(config.redaction.replacement, "[REDACTED]");
/// # Ok::<(), o11y_runtime::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RedactionConfig {
    /// Redaction is on (the default in every profile).
    pub enabled: bool,
    /// Names added to the key rule, matched as words of a name: `note`
    /// covers `note`, `order_note` and `deliveryNote`; `customer_name`
    /// covers `customer_name` and `customerName`.
    pub keys: Vec<String>,
    /// Names the key rule leaves alone, compared whole (without case, `-`,
    /// `_` and `.`): `token_count` keeps `token_count` and `tokenCount`.
    /// Their text values still go through the value patterns.
    pub allow_keys: Vec<String>,
    /// Changes to the value patterns, applied in order to the built-in
    /// defaults: built-ins turned on or off, and custom regular expressions.
    pub patterns: Vec<RedactionPattern>,
    /// What replaces a redacted value or match.
    pub replacement: String,
}

impl Default for RedactionConfig {
    /// The defaults, the same in every profile: on, the built-in names and
    /// patterns, `[REDACTED]`.
    fn default() -> Self {
        let profile = Profile::compiled_default();
        RedactionConfig {
            enabled: default::<k::RedactionEnabled>(profile),
            keys: default::<k::RedactionKeys>(profile),
            allow_keys: default::<k::RedactionAllowKeys>(profile),
            patterns: default::<k::RedactionPatterns>(profile),
            replacement: default::<k::RedactionReplacement>(profile),
        }
    }
}

/// One item of `redaction.patterns`: `+name` (or just `name`) turns a
/// built-in pattern on, `-name` turns it off, `re:<regex>` adds a custom
/// regular expression ([regex crate syntax](https://docs.rs/regex)) whose
/// matches are redacted (only its first capture group, when it has one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedactionPattern {
    /// A built-in pattern turned on.
    On(BuiltinPattern),
    /// A built-in pattern turned off.
    Off(BuiltinPattern),
    /// A custom regular expression.
    Custom(String),
}

impl fmt::Display for RedactionPattern {
    /// As written in the configuration: `+phone`, `-email`, `re:…`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RedactionPattern::On(builtin) => write!(f, "+{}", builtin.name()),
            RedactionPattern::Off(builtin) => write!(f, "-{}", builtin.name()),
            RedactionPattern::Custom(regex) => write!(f, "{CUSTOM_PREFIX}{regex}"),
        }
    }
}

/// The value patterns o11y knows by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BuiltinPattern {
    /// E-mail addresses (`ada@example.com`).
    Email,
    /// Payment card numbers of 13 to 19 digits, whole or in groups of four
    /// (or 4-6-5), that pass the Luhn check.
    CardNumber,
    /// JSON Web Tokens (`eyJ…` `.` `…` `.` `…`).
    Jwt,
    /// The credential after `Bearer ` (the scheme itself is kept).
    Bearer,
    /// AWS access key ids (`AKIA…`, `ASIA…`).
    AwsAccessKey,
    /// PEM private key blocks (`-----BEGIN … PRIVATE KEY-----` to its end).
    PrivateKey,
    /// US social security numbers written `123-45-6789`.
    UsSsn,
    /// Phone numbers (`+1 415 555 0100`, `(415) 555-0100`); off by
    /// default: it also matches many numbers that are not phones.
    Phone,
}

impl BuiltinPattern {
    /// Every built-in pattern, in the order they are applied.
    pub const ALL: [BuiltinPattern; 8] = [
        BuiltinPattern::PrivateKey,
        BuiltinPattern::Jwt,
        BuiltinPattern::Bearer,
        BuiltinPattern::AwsAccessKey,
        BuiltinPattern::Email,
        BuiltinPattern::CardNumber,
        BuiltinPattern::UsSsn,
        BuiltinPattern::Phone,
    ];

    /// Its name in `redaction.patterns`, and the `rule` label of
    /// `o11y_redactions_total`: `email`, `card_number`, `jwt`, `bearer`,
    /// `aws_access_key`, `private_key`, `us_ssn`, `phone`.
    pub fn name(self) -> &'static str {
        match self {
            BuiltinPattern::Email => "email",
            BuiltinPattern::CardNumber => "card_number",
            BuiltinPattern::Jwt => "jwt",
            BuiltinPattern::Bearer => "bearer",
            BuiltinPattern::AwsAccessKey => "aws_access_key",
            BuiltinPattern::PrivateKey => "private_key",
            BuiltinPattern::UsSsn => "us_ssn",
            BuiltinPattern::Phone => "phone",
        }
    }

    /// Whether it runs unless `redaction.patterns` turns it off.
    pub fn on_by_default(self) -> bool {
        self != BuiltinPattern::Phone
    }

    fn named(name: &str) -> Option<BuiltinPattern> {
        Self::ALL.into_iter().find(|builtin| builtin.name() == name)
    }
}

/// What starts a custom regular expression in `redaction.patterns`.
const CUSTOM_PREFIX: &str = "re:";

/// One item of `redaction.patterns`; a custom expression is compiled here,
/// so that a bad one is refused with the configuration's other errors,
/// naming it.
pub(super) fn parse_pattern(item: &str) -> Result<RedactionPattern, Refusal> {
    if let Some(regex) = item.strip_prefix(CUSTOM_PREFIX) {
        let pattern = RedactionPattern::Custom(regex.to_owned());
        check_pattern(&pattern)?;
        return Ok(pattern);
    }
    let (on, name) = match item.as_bytes().first() {
        Some(b'+') => (true, &item[1..]),
        Some(b'-') => (false, &item[1..]),
        _ => (true, item),
    };
    let builtin = BuiltinPattern::named(name.trim()).ok_or_else(|| {
        let names: Vec<&str> = BuiltinPattern::ALL.iter().map(|b| b.name()).collect();
        Refusal::because(format!(
            "{item:?} names no built-in pattern (they are {}); a custom regular expression \
             is written re:<regex>",
            names.join(", ")
        ))
    })?;
    Ok(if on {
        RedactionPattern::On(builtin)
    } else {
        RedactionPattern::Off(builtin)
    })
}

/// A custom expression compiles (and matches no empty text, which would
/// put the replacement between every two characters of every value).
pub(super) fn check_pattern(pattern: &RedactionPattern) -> Result<(), Refusal> {
    let RedactionPattern::Custom(source) = pattern else {
        return Ok(());
    };
    let regex = regex::Regex::new(source).map_err(|e| {
        Refusal::because(format!(
            "{:?} is not a valid regular expression: {}",
            pattern.to_string(),
            one_line(&e.to_string())
        ))
    })?;
    if regex.is_match("") {
        return Err(Refusal::because(format!(
            "{:?} matches empty text, so it would match everywhere",
            pattern.to_string()
        )));
    }
    Ok(())
}

/// The regex crate's syntax errors draw the pattern and a caret on lines
/// of their own; a configuration error is one line.
fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_read_as_written() {
        assert_eq!(
            parse_pattern("+phone"),
            Ok(RedactionPattern::On(BuiltinPattern::Phone))
        );
        assert_eq!(
            parse_pattern("phone"),
            Ok(RedactionPattern::On(BuiltinPattern::Phone))
        );
        assert_eq!(
            parse_pattern("-email"),
            Ok(RedactionPattern::Off(BuiltinPattern::Email))
        );
        assert_eq!(
            parse_pattern(r"re:ord-\d{6}"),
            Ok(RedactionPattern::Custom(r"ord-\d{6}".to_owned()))
        );
        for pattern in [
            RedactionPattern::On(BuiltinPattern::CardNumber),
            RedactionPattern::Off(BuiltinPattern::UsSsn),
            RedactionPattern::Custom("x+".to_owned()),
        ] {
            assert_eq!(parse_pattern(&pattern.to_string()), Ok(pattern));
        }
    }

    #[test]
    fn refusals_name_the_bad_item() {
        let Err(Refusal(Some(detail))) = parse_pattern("-emial") else {
            panic!("refused with a detail");
        };
        assert!(detail.contains("\"-emial\""), "{detail}");
        assert!(detail.contains("email, "), "lists the names: {detail}");

        let Err(Refusal(Some(detail))) = parse_pattern("re:(unclosed") else {
            panic!("refused with a detail");
        };
        assert!(detail.starts_with("\"re:(unclosed\" is not a valid regular expression"));
        assert!(!detail.contains('\n'), "one line: {detail}");

        let Err(Refusal(Some(detail))) = parse_pattern("re:x*") else {
            panic!("refused with a detail");
        };
        assert!(detail.contains("matches empty text"), "{detail}");
    }
}
