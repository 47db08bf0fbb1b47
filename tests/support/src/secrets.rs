//! The secrets corpus of the redaction tests (`tests/redaction.rs`,
//! `tests/redaction_integrations.rs`): a password, an e-mail address, a
//! card number, a JWT, a bearer token, an AWS access key id, a PEM private
//! key and an SSN; a text holding every one the value patterns find,
//! between words that must stay, and that text as it must come out; and
//! the assertion that none of them leaked into a place.

/// A password has no shape of its own: only a sensitive name finds it.
pub const PASSWORD: &str = "hunter2-Pa55w0rd-leak";
/// An e-mail address.
pub const EMAIL: &str = "ada.leak@example.com";
/// A card number that passes the Luhn check, in groups of four.
pub const CARD: &str = "4111 1111 1111 1111";
/// A JSON Web Token.
pub const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJsZWFrIn0.c2lnLWxlYWstand0";
/// Planted as `Bearer <this>`.
pub const BEARER: &str = "t0k3n-leak-9f8e7d6c";
/// An AWS access key id.
pub const AWS_KEY: &str = "AKIALEAKLEAKLEAK1234";
/// The body of the PEM block: what must not survive of it.
pub const PEM_BODY: &str = "MIIEpLeakedPrivateKeyMaterial0123";
/// A US social security number.
pub const SSN: &str = "078-05-1120";

/// Each secret as it must never be found, and what it is.
pub const NEEDLES: &[(&str, &str)] = &[
    ("password", PASSWORD),
    ("e-mail address", EMAIL),
    ("card number", CARD),
    ("JWT", JWT),
    ("bearer token", BEARER),
    ("AWS access key id", AWS_KEY),
    ("PEM private key", PEM_BODY),
    ("SSN", SSN),
];

/// A PEM private key block around [`PEM_BODY`].
pub fn pem() -> String {
    format!("-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\n-----END RSA PRIVATE KEY-----")
}

/// Every secret the value patterns find, in one text, between words that
/// must stay.
pub fn all_patterns() -> String {
    format!(
        "mail {EMAIL} card {CARD} jwt {JWT} auth Bearer {BEARER} key {AWS_KEY} pem {} ssn {SSN}",
        pem()
    )
}

/// [`all_patterns`] as it must come out: every secret replaced, every word
/// around them kept.
pub const ALL_REDACTED: &str = "mail [REDACTED] card [REDACTED] jwt [REDACTED] auth Bearer [REDACTED] \
                            key [REDACTED] pem [REDACTED] ssn [REDACTED]";

/// No secret in the spans or the log records a collector received.
#[track_caller]
pub fn assert_rotel_received_no_secret(spans: &[serde_json::Value], logs: &[serde_json::Value]) {
    assert_no_secret(
        "the spans rotel received",
        &serde_json::Value::from(spans).to_string(),
    );
    assert_no_secret(
        "the logs rotel received",
        &serde_json::Value::from(logs).to_string(),
    );
}

/// Fails naming the secret and the place it leaked into.
#[track_caller]
pub fn assert_no_secret(place: &str, text: &str) {
    assert!(!text.is_empty(), "{place} is empty: nothing was checked");
    for (what, needle) in NEEDLES {
        assert!(
            !text.contains(needle),
            "the {what} {needle:?} leaked into {place}:\n{text}"
        );
    }
}
