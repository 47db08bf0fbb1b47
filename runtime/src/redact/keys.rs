//! The key rule: which names of fields, span attributes, query parameters
//! and headers are sensitive, so that their whole value is redacted.
//!
//! A name is read as lowercase words: split at every character that is not
//! a letter or a digit (`-`, `_`, `.`, spaces) and at camel-case humps
//! (`refreshToken`, `AWSAccessKeyId`); `joined` is its words run together
//! (`apikey` for `X-API-Key`, `api_key` and `apiKey` alike). It is sensitive
//! when, in this order:
//!
//! 1. it is not in `redaction.allow_keys` (compared joined);
//! 2. its joined form contains one of [`PARTS`]: secrets whose name leaves
//!    no doubt, wherever they sit (`password` in `db_password` and
//!    `passwordHash`, `secret` in `client_secret`, `cookie` in `set-cookie`);
//! 3. one of its words is one of [`WORDS`] (`token`, `session`, `auth`,
//!    `email`, `ssn`…) or ends with one of [`SUFFIXES`] (`csrftoken`,
//!    `usersession`): whole words, so that `max_tokens`, `tokenizer`,
//!    `author` and `sessions_total` are kept;
//! 4. it is one of [`WHOLE_NAMES`] (`x_forwarded_for`);
//! 5. its words contain the words of a name of `redaction.keys`, in order:
//!    `note` covers `order_note`, `customer_name` covers `customerName`.
//!
//! Query parameters also treat [`URL_WORDS`] as sensitive (`key`, `code`,
//! `sig`, `pass`): in a URL they are an API key, an OAuth code or a
//! signature, where in a log line `key` and `code` are mostly a cache key
//! and an error code.
//!
//! The lists start from sentry-python's `DEFAULT_DENYLIST` (password,
//! passwd, secret, api_key, apikey, auth, credentials, mysql_pwd,
//! privatekey, private_key, token, session, csrftoken, sessionid,
//! x_csrftoken, x_forwarded_for, set_cookie, cookie, authorization,
//! x_api_key, connect.sid, csrf, _xsrf, PHPSESSID, symfony, …) and add the
//! names of personal data (email, phone, ssn, credit_card, card_number,
//! iban, cvv) and of signatures and access keys in URLs (the OpenTelemetry
//! conventions name `AWSAccessKeyId`, `Signature`, `sig` and
//! `X-Goog-Signature`). Where a name could be either, it is sensitive: a
//! leaked secret cannot be taken back, an over-redacted value costs little
//! (and `allow_keys` restores it).

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;
use smallvec::SmallVec;

/// Sensitive wherever they appear in the joined name.
pub(crate) const PARTS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "secret",
    "apikey",
    "privatekey",
    "credential",
    "authorization",
    "cookie",
    "bearer",
    "accesskey",
    "sessionid",
    "sessid",
    "csrf",
    "xsrf",
    "creditcard",
    "cardnumber",
    "socialsecurity",
];

/// Sensitive as one word of a name.
pub(crate) const WORDS: &[&str] = &[
    "auth",
    "pwd",
    "jwt",
    "sid",
    "otp",
    "signature",
    "email",
    "phone",
    "ssn",
    "iban",
    "cvv",
    "cvc",
];

/// Sensitive as the end of one word (so as a word too).
pub(crate) const SUFFIXES: &[&str] = &["token", "session"];

/// Sensitive as the whole name (joined).
pub(crate) const WHOLE_NAMES: &[&str] = &["xforwardedfor", "xrealip", "symfony"];

/// Sensitive as one word of a query parameter's name.
pub(crate) const URL_WORDS: &[&str] = &["key", "code", "sig", "pass"];

/// The automaton finding [`PARTS`] in one pass over a joined name.
static PARTS_FINDER: LazyLock<AhoCorasick> = LazyLock::new(|| {
    // Built from fixed ASCII words: cannot fail.
    AhoCorasick::new(PARTS).unwrap_or_else(|_| unreachable!("fixed ASCII patterns"))
});

/// Where a name is read: most names, or a query parameter's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Name,
    Url,
}

/// The key rule with the configuration's added and allowed names.
#[derive(Debug, Clone, Default)]
pub(crate) struct KeyRule {
    /// `redaction.keys`, each as its words.
    added: Vec<Vec<Box<str>>>,
    /// `redaction.allow_keys`, each joined.
    allowed: Vec<Box<str>>,
}

impl KeyRule {
    pub(crate) fn new(keys: &[String], allow_keys: &[String]) -> KeyRule {
        KeyRule {
            added: keys
                .iter()
                .map(|key| {
                    let name = Words::of(key);
                    name.words().map(Into::into).collect()
                })
                .filter(|words: &Vec<Box<str>>| !words.is_empty())
                .collect(),
            allowed: allow_keys
                .iter()
                .map(|key| Words::of(key).joined().into())
                .collect(),
        }
    }

    /// Whether a field, attribute or header named `name` is sensitive.
    pub(crate) fn is_sensitive(&self, name: &str) -> bool {
        self.check(name, Scope::Name)
    }

    /// Whether a query parameter named `name` (decoded) is sensitive.
    #[cfg_attr(not(any(feature = "axum", feature = "reqwest")), allow(dead_code))]
    pub(crate) fn is_sensitive_param(&self, name: &str) -> bool {
        self.check(name, Scope::Url)
    }

    fn check(&self, name: &str, scope: Scope) -> bool {
        let words = Words::of(name);
        let joined = words.joined();
        if joined.is_empty() || self.allowed.iter().any(|allowed| **allowed == *joined) {
            return false;
        }
        if PARTS_FINDER.is_match(joined) || WHOLE_NAMES.contains(&joined) {
            return true;
        }
        let sensitive_word = |word: &str| {
            WORDS.contains(&word)
                || SUFFIXES.iter().any(|suffix| word.ends_with(suffix))
                || (scope == Scope::Url && URL_WORDS.contains(&word))
        };
        if words.words().any(sensitive_word) {
            return true;
        }
        self.added.iter().any(|added| words.contains_run(added))
    }
}

/// A name read as lowercase words; on the stack for the names of real code.
struct Words {
    /// The words run together.
    joined: SmallVec<[u8; 48]>,
    /// Where each word ends in `joined`.
    ends: SmallVec<[usize; 8]>,
}

impl Words {
    fn of(name: &str) -> Words {
        let mut words = Words {
            joined: SmallVec::new(),
            ends: SmallVec::new(),
        };
        let mut chars = name.chars().peekable();
        let mut previous: Option<char> = None;
        while let Some(c) = chars.next() {
            if !c.is_alphanumeric() {
                words.end_word();
                previous = None;
                continue;
            }
            // `refreshToken`, `sha256Sum`: a capital after a small letter
            // or a digit; `APIKey`: the last capital of a run, before a
            // small letter.
            if c.is_uppercase()
                && let Some(before) = previous
            {
                let after_small = before.is_lowercase() || before.is_numeric();
                let ends_capitals =
                    before.is_uppercase() && chars.peek().is_some_and(|next| next.is_lowercase());
                if after_small || ends_capitals {
                    words.end_word();
                }
            }
            let mut utf8 = [0; 4];
            for lower in c.to_lowercase() {
                words
                    .joined
                    .extend_from_slice(lower.encode_utf8(&mut utf8).as_bytes());
            }
            previous = Some(c);
        }
        words.end_word();
        words
    }

    fn end_word(&mut self) {
        if self.ends.last().copied().unwrap_or(0) < self.joined.len() {
            self.ends.push(self.joined.len());
        }
    }

    fn joined(&self) -> &str {
        // Whole characters only were pushed.
        std::str::from_utf8(&self.joined).unwrap_or_default()
    }

    fn words(&self) -> impl Iterator<Item = &str> + '_ {
        let joined = self.joined();
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(self.ends.iter().copied())
            .map(move |(start, end)| &joined[start..end])
    }

    /// Whether `run` comes among the words, one after the other.
    fn contains_run(&self, run: &[Box<str>]) -> bool {
        let words: SmallVec<[&str; 8]> = self.words().collect();
        words
            .windows(run.len())
            .any(|window| window.iter().zip(run).all(|(word, key)| *word == &**key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(name: &str) -> Vec<String> {
        Words::of(name).words().map(str::to_owned).collect()
    }

    #[test]
    fn names_read_as_lowercase_words() {
        assert_eq!(words("refreshToken"), ["refresh", "token"]);
        assert_eq!(words("AWSAccessKeyId"), ["aws", "access", "key", "id"]);
        assert_eq!(words("X-API-Key"), ["x", "api", "key"]);
        assert_eq!(
            words("http.request.header.x-auth"),
            ["http", "request", "header", "x", "auth"]
        );
        assert_eq!(words("__Host-session_ID"), ["host", "session", "id"]);
        assert_eq!(words("sha256Sum"), ["sha256", "sum"]);
        assert_eq!(words("PHPSESSID"), ["phpsessid"]);
        assert_eq!(words("Ünïcode_NAME"), ["ünïcode", "name"]);
        assert!(words("--").is_empty());
        assert_eq!(Words::of("api-key").joined(), "apikey");
    }

    #[test]
    fn sentrys_denylist_and_pii_names_are_sensitive_in_any_spelling() {
        let rule = KeyRule::default();
        for name in [
            // sentry-python's DEFAULT_DENYLIST
            "password",
            "passwd",
            "secret",
            "api_key",
            "apikey",
            "auth",
            "credentials",
            "mysql_pwd",
            "privatekey",
            "private_key",
            "token",
            "session",
            "csrftoken",
            "sessionid",
            "x_csrftoken",
            "x_forwarded_for",
            "set_cookie",
            "cookie",
            "authorization",
            "x_api_key",
            "aiohttp_session",
            "connect.sid",
            "csrf_token",
            "csrf",
            "_csrf",
            "_csrf_token",
            "PHPSESSID",
            "_session",
            "symfony",
            "user_session",
            "_xsrf",
            "XSRF-TOKEN",
            // spellings
            "Password",
            "db_password",
            "passwordHash",
            "X-Api-Key",
            "apiKey",
            "refreshToken",
            "access_token",
            "ACCESS_TOKEN",
            "client_secret",
            "Proxy-Authorization",
            "x-auth-token",
            "basic_auth",
            "JSESSIONID",
            "X-Real-IP",
            // personal data
            "email",
            "user_email",
            "emailAddress",
            "phone",
            "phone_number",
            "ssn",
            "credit_card",
            "creditCardNumber",
            "card_number",
            "iban",
            "cvv",
            "signature",
            "X-Goog-Signature",
            "AWSAccessKeyId",
            "jwt",
        ] {
            assert!(rule.is_sensitive(name), "{name}");
        }
    }

    #[test]
    fn ordinary_names_are_kept() {
        let rule = KeyRule::default();
        for name in [
            "order_id",
            "user_id",
            "user.id",
            "request_id",
            "http.request.method",
            "url.path",
            "max_tokens",
            "gen_ai.usage.input_tokens",
            "tokenizer",
            "author",
            "oauth_provider",
            "sessions_total",
            "status",
            "key",
            "code",
            "page",
            "classname",
            "message",
            "error",
            "passenger",
            "compass",
        ] {
            assert!(!rule.is_sensitive(name), "{name}");
        }
    }

    #[test]
    fn query_parameters_also_treat_url_words_as_sensitive() {
        let rule = KeyRule::default();
        for name in ["key", "code", "sig", "pass", "api-key", "X-Amz-Credential"] {
            assert!(rule.is_sensitive_param(name), "{name}");
        }
        for name in ["page", "sort", "q", "id", "limit", "keyword_count", "state"] {
            assert!(!rule.is_sensitive_param(name), "{name}");
        }
        assert!(!rule.is_sensitive("key") && !rule.is_sensitive("code"));
    }

    #[test]
    fn added_names_match_as_words_and_allowed_names_win() {
        let rule = KeyRule::new(
            &["note".to_owned(), "customer_name".to_owned()],
            &["token_count".to_owned(), "Email-Verified".to_owned()],
        );
        for name in [
            "note",
            "order_note",
            "deliveryNote",
            "customer_name",
            "customerName",
        ] {
            assert!(rule.is_sensitive(name), "{name}");
        }
        for name in ["notes", "notebook", "customer", "name", "customer_names"] {
            assert!(!rule.is_sensitive(name), "{name}");
        }
        assert!(!rule.is_sensitive("token_count"));
        assert!(!rule.is_sensitive("tokenCount"));
        assert!(!rule.is_sensitive("email_verified"));
        assert!(rule.is_sensitive("token"), "only the allowed name itself");
        assert!(rule.is_sensitive("email"));
    }
}
