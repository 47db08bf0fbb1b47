//! Redaction: the engine that keeps secrets and personal data out of what
//! o11y writes and exports, and the engine in force.
//!
//! Two rules, configured by `[redaction]` ([`RedactionConfig`]):
//!
//! - the key rule (`keys`): a field, span attribute, query parameter or
//!   header whose name is sensitive has its whole value replaced. For the
//!   fields of `tracing` callsites, whose names are `'static`, the decision
//!   is taken once per name (`fields`), not at every span and event;
//! - the value rule (`patterns`): e-mail addresses, card numbers, JWTs,
//!   `Bearer` credentials, AWS access key ids, PEM private keys and US SSNs
//!   (phone numbers when asked, and custom regular expressions) are
//!   replaced inside text values. A text with no mark of any of them costs
//!   one pass over its bytes.
//!
//! Where each signal meets them: a log line's fields' names when they are
//! collected, their text at the first line that shows them and an event's
//! message when it is collected, before any sink sees them; a span's
//! fields' names when they are recorded, and its text (attributes, events,
//! links, status, name) on the export thread, off the request path; query
//! strings (`url.query`, `url.full`) and captured headers where the HTTP
//! layer and client record them; a Sentry event's text and data before it
//! is queued (feature `sentry`). Every redaction counts in
//! `o11y_redactions_total{signal,rule}`.
//!
//! `init()` builds the engine from the configuration and [`install`]s it;
//! the stages it builds hold it, and the integrations read it through
//! [`active`].

mod fields;
mod keys;
mod patterns;
mod query;

use std::borrow::Cow;
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, OnceLock, PoisonError, RwLock};

use crate::config::{BuiltinPattern, ConfigError, Origin, RedactionConfig, RedactionPattern};
use crate::metrics::{CounterHandle, CounterVec, MetricDesc, register_own_metric};

pub(crate) use keys::KeyRule;
pub(crate) use query::URL_REPLACEMENT;

use fields::FieldNames;
use patterns::ValueRule;

/// Where a redaction happened: the `signal` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    /// Spans: attributes, events, links, status, URLs, headers.
    Traces,
    /// Log lines: fields and messages, in every sink.
    Logs,
    /// Error events sent to an error tracker (Sentry, feature `sentry`).
    #[cfg_attr(not(feature = "sentry"), allow(dead_code))]
    Errors,
}

impl Signal {
    const ALL: [Signal; 3] = [Signal::Traces, Signal::Logs, Signal::Errors];

    fn label(self) -> &'static str {
        match self {
            Signal::Traces => "traces",
            Signal::Logs => "logs",
            Signal::Errors => "errors",
        }
    }
}

/// What found it: the `rule` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rule {
    /// A sensitive name: the whole value.
    Key,
    /// The user and password of a URL.
    #[cfg_attr(not(feature = "reqwest"), allow(dead_code))]
    UrlCredentials,
    /// A built-in value pattern.
    Pattern(BuiltinPattern),
    /// A custom value pattern.
    Custom,
}

/// Every rule label: `key`, `url_credentials`, the built-in patterns'
/// names, `custom`.
const RULES: usize = 3 + BuiltinPattern::ALL.len();

impl Rule {
    fn index(self) -> usize {
        match self {
            Rule::Key => 0,
            Rule::UrlCredentials => 1,
            Rule::Custom => 2,
            Rule::Pattern(pattern) => {
                3 + BuiltinPattern::ALL
                    .iter()
                    .position(|p| *p == pattern)
                    .unwrap_or(0)
            }
        }
    }

    fn label(self) -> &'static str {
        match self {
            Rule::Key => "key",
            Rule::UrlCredentials => "url_credentials",
            Rule::Custom => "custom",
            Rule::Pattern(pattern) => pattern.name(),
        }
    }
}

/// Values and matches redacted.
static REDACTIONS: CounterVec<2> = CounterVec::new(
    MetricDesc::counter(
        "o11y_redactions_total",
        "Values and matches redacted before they were written or exported, by signal and rule",
    )
    .labels(&["signal", "rule"])
    // Counted where a span's state may be locked: an exemplar lookup would
    // take that lock again. o11y's own metrics link no span.
    .exemplars(false),
);
register_own_metric!(REDACTIONS);

/// Each series' handle, made at its first redaction: no series shows
/// before something was redacted.
static HANDLES: [[OnceLock<CounterHandle>; RULES]; Signal::ALL.len()] =
    [const { [const { OnceLock::new() }; RULES] }; Signal::ALL.len()];

/// Counts `n` redactions of `rule` in `signal`.
pub(crate) fn count(signal: Signal, rule: Rule, n: u64) {
    let row = Signal::ALL.iter().position(|s| *s == signal).unwrap_or(0);
    HANDLES[row][rule.index()]
        .get_or_init(|| REDACTIONS.labels([signal.label(), rule.label()]))
        .inc_by(n);
}

/// The redaction engine of one configuration; see the module documentation.
#[derive(Debug)]
pub(crate) struct Redactor {
    enabled: bool,
    keys: KeyRule,
    values: ValueRule,
    replacement: Box<str>,
    /// The key rule's decisions for the `'static` names of fields.
    field_names: FieldNames,
}

impl Redactor {
    /// The engine of `config`. A custom pattern that does not compile (a
    /// configuration changed in code after it was built and checked) is an
    /// error naming it.
    pub(crate) fn new(config: &RedactionConfig) -> Result<Redactor, ConfigError> {
        let values =
            ValueRule::new(&config.patterns).map_err(|(source, error)| ConfigError::Invalid {
                key: "redaction.patterns".to_owned(),
                value: RedactionPattern::Custom(source).to_string(),
                origin: Origin::Builder,
                expected: format!("a valid regular expression ({error})"),
            })?;
        Ok(Redactor {
            enabled: config.enabled,
            keys: KeyRule::new(&config.keys, &config.allow_keys),
            values,
            replacement: config.replacement.as_str().into(),
            field_names: FieldNames::new(),
        })
    }

    /// Whether anything is redacted at all.
    #[inline]
    pub(crate) fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// What replaces a redacted value.
    pub(crate) fn replacement(&self) -> &str {
        &self.replacement
    }

    /// Whether a field, attribute or header named `name` has its value
    /// redacted (for a `tracing` field, [`is_sensitive_field`](Self::is_sensitive_field)).
    pub(crate) fn is_sensitive_key(&self, name: &str) -> bool {
        self.enabled && self.keys.is_sensitive(name)
    }

    /// Whether the value of a `tracing` field is redacted for its name:
    /// decided once per name, then one load.
    #[inline]
    pub(crate) fn is_sensitive_field(&self, field: &tracing_core::Field) -> bool {
        self.enabled && self.field_names.is_sensitive(&self.keys, field)
    }

    /// The value that replaces one under a sensitive name in `signal`,
    /// counted.
    pub(crate) fn key_redacted(&self, signal: Signal) -> &str {
        count(signal, Rule::Key, 1);
        &self.replacement
    }

    /// `text` with what the value patterns find replaced, each match
    /// counted in `signal`; `None` when nothing matched.
    #[inline]
    pub(crate) fn scrub(&self, text: &str, signal: Signal) -> Option<String> {
        if !self.enabled {
            return None;
        }
        self.values
            .scrub(text, &self.replacement, |rule| count(signal, rule, 1))
    }

    /// [`scrub`](Self::scrub) in place; whether anything was replaced.
    #[inline]
    pub(crate) fn scrub_in_place(&self, text: &mut String, signal: Signal) -> bool {
        match self.scrub(text, signal) {
            Some(scrubbed) => {
                *text = scrubbed;
                true
            }
            None => false,
        }
    }

    /// A query string with the values of sensitive parameters, and the
    /// values the patterns find a secret in once decoded, replaced whole by
    /// [`URL_REPLACEMENT`] (as the OpenTelemetry conventions write it in
    /// URLs), counted in `signal`; borrowed when there was none.
    #[cfg_attr(not(any(feature = "axum", feature = "reqwest")), allow(dead_code))]
    pub(crate) fn query<'a>(&self, query: &'a str, signal: Signal) -> Cow<'a, str> {
        if !self.enabled {
            return Cow::Borrowed(query);
        }
        let has_secret = |value: &str| {
            self.values
                .scrub(value, URL_REPLACEMENT, |rule| count(signal, rule, 1))
                .is_some()
        };
        let (query, redacted) = query::redact_query(&self.keys, has_secret, query, URL_REPLACEMENT);
        if redacted > 0 {
            count(signal, Rule::Key, redacted as u64);
        }
        query
    }
}

/// The engines `init()` installed, the last one in force.
static INSTALLED: RwLock<Option<&'static Redactor>> = RwLock::new(None);
/// Bumped by every [`install`], so that a thread knows its copy is stale.
static GENERATION: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// The engine this thread last read, and the generation it read it at.
    static SEEN: Cell<(u64, Option<&'static Redactor>)> = const { Cell::new((u64::MAX, None)) };
}

/// The engine of the default configuration, for what runs before `init()`.
static DEFAULT: LazyLock<Redactor> = LazyLock::new(|| {
    // The defaults have no custom pattern: nothing to fail.
    Redactor::new(&RedactionConfig::default())
        .unwrap_or_else(|e| unreachable!("the default configuration: {e}"))
});

/// Makes `redactor` the engine in force (called by `init()`), and returns
/// it for the stages to hold. It lives until the process ends, like the
/// global subscriber it serves, so that whatever reaches it from anywhere
/// (the context API, the HTTP layer and client) holds a plain reference.
pub(crate) fn install(redactor: Redactor) -> &'static Redactor {
    let redactor: &'static Redactor = Box::leak(Box::new(redactor));
    *INSTALLED.write().unwrap_or_else(PoisonError::into_inner) = Some(redactor);
    GENERATION.fetch_add(1, Ordering::Release);
    redactor
}

/// The engine in force: the one installed last, else the default
/// configuration's. One load of a word no one writes after `init()`, and a
/// thread-local read: no lock, no shared count, on the paths that call it
/// per request.
#[inline]
pub(crate) fn active() -> &'static Redactor {
    // Read before the engine: an install in between makes the next call
    // read again, never keep a stale engine.
    let generation = GENERATION.load(Ordering::Acquire);
    let seen = SEEN
        .try_with(|seen| {
            let (at, redactor) = seen.get();
            (at == generation).then_some(redactor)
        })
        .ok()
        .flatten();
    let redactor = match seen {
        Some(redactor) => redactor,
        None => {
            let redactor = *INSTALLED.read().unwrap_or_else(PoisonError::into_inner);
            let _ = SEEN.try_with(|seen| seen.set((generation, redactor)));
            redactor
        }
    };
    redactor.unwrap_or(&DEFAULT)
}

#[cfg(test)]
mod hostile_tests;
#[cfg(test)]
mod tests;
