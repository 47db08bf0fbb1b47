use super::*;

fn redactor(config: RedactionConfig) -> Redactor {
    Redactor::new(&config).expect("valid configuration")
}

fn config() -> RedactionConfig {
    RedactionConfig::default()
}

/// One secret of each kind the defaults find in text, and a part of it that
/// must not survive.
pub(super) const SECRETS: &[(&str, &str)] = &[
    ("ada.lovelace@example.com", "lovelace@example"),
    ("4111 1111 1111 1111", "4111 1111 1111 1111"),
    ("5500005555555559", "5500005555555559"),
    (
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZGEifQ.c2lnbmF0dXJlLXNlY3JldA",
        "eyJzdWIiOiJhZGEifQ",
    ),
    ("Bearer s3cr3t-t0k3n.abc", "s3cr3t-t0k3n"),
    ("AKIAIOSFODNN7EXAMPLE", "IOSFODNN7EXAMPLE"),
    (
        "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIGlp\n-----END EC PRIVATE KEY-----",
        "MHcCAQEEIGlp",
    ),
    ("078-05-1120", "078-05-1120"),
];

#[test]
fn the_replacement_is_configurable_and_counted() {
    let mut custom = config();
    custom.replacement = "***".to_owned();
    let redactor = redactor(custom);
    assert_eq!(
        redactor
            .scrub("mail ada@example.com", Signal::Logs)
            .as_deref(),
        Some("mail ***")
    );
    assert_eq!(redactor.key_redacted(Signal::Logs), "***");
    let email = Rule::Pattern(BuiltinPattern::Email);
    let before = HANDLES[1][email.index()]
        .get()
        .map_or(0, CounterHandle::get);
    redactor.scrub("a@example.com b@example.org", Signal::Logs);
    let after = HANDLES[1][email.index()]
        .get()
        .map_or(0, CounterHandle::get);
    assert!(
        after >= before + 2,
        "each match counts: {before} -> {after}"
    );
}

#[test]
fn disabled_redacts_nothing() {
    let mut off = config();
    off.enabled = false;
    let redactor = redactor(off);
    assert!(!redactor.is_enabled());
    for (secret, _) in SECRETS {
        assert_eq!(redactor.scrub(secret, Signal::Traces), None);
    }
    assert!(!redactor.is_sensitive_key("password"));
    assert_eq!(redactor.query("token=abc", Signal::Traces), "token=abc");
}

#[test]
fn keys_added_and_allowed_reach_the_engine() {
    let mut custom = config();
    custom.keys = vec!["order_note".to_owned()];
    custom.allow_keys = vec!["session".to_owned()];
    let redactor = redactor(custom);
    assert!(redactor.is_sensitive_key("orderNote"));
    assert!(!redactor.is_sensitive_key("session"));
    assert!(redactor.is_sensitive_key("password"));
    assert_eq!(
        redactor.query("session=s1&orderNote=n&password=p", Signal::Traces),
        "session=s1&orderNote=REDACTED&password=REDACTED"
    );
}

#[test]
fn a_bad_custom_pattern_is_an_error_naming_it() {
    let mut bad = config();
    bad.patterns = vec![
        RedactionPattern::Custom("ok-[0-9]+".to_owned()),
        RedactionPattern::Custom("bad-[0-9".to_owned()),
    ];
    let error = Redactor::new(&bad).unwrap_err().to_string();
    assert!(
        error.starts_with("invalid redaction.patterns = \"re:bad-[0-9\""),
        "{error}"
    );
    assert!(error.contains("a valid regular expression"), "{error}");
}

#[test]
fn field_names_are_decided_once_per_name() {
    static CALLSITE: tracing_core::callsite::DefaultCallsite =
        tracing_core::callsite::DefaultCallsite::new(&LOGIN);
    static LOGIN: tracing_core::Metadata<'static> = tracing::metadata! {
        name: "login",
        target: "o11y::redact::tests",
        level: tracing::Level::INFO,
        fields: &["user_id", "password", "api_key"],
        callsite: &CALLSITE,
        kind: tracing_core::metadata::Kind::SPAN,
    };
    let visit = |redactor: &Redactor| -> Vec<(&'static str, bool)> {
        LOGIN
            .fields()
            .iter()
            .map(|field| (field.name(), redactor.is_sensitive_field(&field)))
            .collect()
    };
    let expected = [("user_id", false), ("password", true), ("api_key", true)];
    let redactor = redactor(config());
    assert_eq!(visit(&redactor), expected);
    assert_eq!(visit(&redactor), expected, "from the cache");
    let mut allowing = config();
    allowing.allow_keys = vec!["password".to_owned()];
    let allowing = Redactor::new(&allowing).expect("valid");
    assert_eq!(
        visit(&allowing),
        [("user_id", false), ("password", false), ("api_key", true)],
        "another engine's decisions are its own"
    );
    assert_eq!(visit(&redactor), expected);
}
