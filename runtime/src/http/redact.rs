//! `url.full` without secrets: what the client span says it called.
//!
//! Following the OpenTelemetry semantic conventions, credentials in the URL
//! (`https://user:pass@host/`) become `REDACTED:REDACTED`, and the values of
//! query parameters that carry secrets become `REDACTED`. The conventions
//! name `AWSAccessKeyId`, `Signature`, `sig` and `X-Goog-Signature`; o11y
//! goes further (a leaked token cannot be taken back, an over-redacted
//! value costs nothing): a parameter is secret when its name, lowercased
//! without `-`, `_` and `.`, is one of [`SECRET_NAMES`] or contains one of
//! [`SECRET_PARTS`]. The fragment (never sent to the server) is dropped.
//!
//! A secret in the path itself (`/reset/<token>`) cannot be told from an
//! id, and is kept: call such endpoints with the secret in a header.

use std::borrow::Cow;

use url::Url;

/// What replaces a secret.
pub(crate) const REDACTED: &str = "REDACTED";

/// Query parameter names (normalised: lowercase, no `-`, `_`, `.`) whose
/// values are redacted.
pub(crate) const SECRET_NAMES: &[&str] = &["sig", "key", "code", "pwd", "pass", "jwt", "sid"];

/// Parts of query parameter names (normalised) whose values are redacted:
/// `access_token`, `client_secret`, `X-Amz-Signature`, `AWSAccessKeyId`, …
pub(crate) const SECRET_PARTS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "apikey",
    "auth",
    "credential",
    "signature",
    "accesskey",
    "privatekey",
    "session",
    "sessid",
    "cookie",
    "bearer",
];

/// `url` as the `url.full` attribute: credentials and secret query values
/// replaced by `REDACTED`, no fragment. Borrows `url` when there is nothing
/// to remove (the usual case).
pub(crate) fn full_url(url: &Url) -> Cow<'_, str> {
    let has_credentials = !url.username().is_empty() || url.password().is_some();
    let secret_query = url.query().is_some_and(has_secret_value);
    if !has_credentials && !secret_query && url.fragment().is_none() {
        return Cow::Borrowed(url.as_str());
    }
    let mut redacted = url.clone();
    redacted.set_fragment(None);
    if has_credentials {
        // Only URLs with a host can carry credentials, and those accept both.
        let _ = redacted.set_username(REDACTED);
        let _ = redacted.set_password(Some(REDACTED));
    }
    if secret_query && let Some(query) = url.query() {
        redacted.set_query(Some(&redact_query(query)));
    }
    Cow::Owned(redacted.into())
}

/// Whether a query parameter named `name` (as decoded) carries a secret.
pub(crate) fn is_secret_name(name: &str) -> bool {
    let normalised: String = name
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | '.'))
        .flat_map(char::to_lowercase)
        .collect();
    SECRET_NAMES.contains(&normalised.as_str())
        || SECRET_PARTS.iter().any(|part| normalised.contains(part))
}

/// The decoded name of one `name[=value]` query piece.
fn piece_name(piece: &str) -> Cow<'_, str> {
    url::form_urlencoded::parse(piece.as_bytes())
        .next()
        .map(|(name, _)| name)
        .unwrap_or(Cow::Borrowed(""))
}

/// Whether one of the pieces of `query` has a secret, non-empty value.
fn has_secret_value(query: &str) -> bool {
    query.split('&').any(|piece| {
        piece
            .split_once('=')
            .is_some_and(|(_, value)| !value.is_empty())
            && is_secret_name(&piece_name(piece))
    })
}

/// `query` with the values of secret parameters replaced, everything else
/// (order, encoding, other parameters) as it was.
fn redact_query(query: &str) -> String {
    let mut out = String::with_capacity(query.len());
    for (i, piece) in query.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        match piece.split_once('=') {
            Some((name, value)) if !value.is_empty() && is_secret_name(&piece_name(piece)) => {
                out.push_str(name);
                out.push('=');
                out.push_str(REDACTED);
            }
            _ => out.push_str(piece),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(url: &str) -> String {
        full_url(&Url::parse(url).unwrap()).into_owned()
    }

    #[test]
    fn plain_urls_are_borrowed_as_they_are() {
        let url = Url::parse("http://127.0.0.1:8080/orders/7?page=2&sort=asc").unwrap();
        assert!(matches!(full_url(&url), Cow::Borrowed(_)));
        assert_eq!(
            full_url(&url),
            "http://127.0.0.1:8080/orders/7?page=2&sort=asc"
        );
    }

    #[test]
    fn credentials_are_redacted() {
        assert_eq!(
            full("https://ada:hunter2@api.example.com/v1/orders"),
            "https://REDACTED:REDACTED@api.example.com/v1/orders"
        );
        assert_eq!(
            full("https://token-only@api.example.com/"),
            "https://REDACTED:REDACTED@api.example.com/"
        );
        assert_eq!(
            full("https://:secret@api.example.com/"),
            "https://REDACTED:REDACTED@api.example.com/"
        );
    }

    #[test]
    fn secret_query_values_are_redacted_and_the_rest_kept() {
        assert_eq!(
            full(
                "https://s3.example.com/b/k?AWSAccessKeyId=AKIA123&Expires=1700000000&Signature=abc%2Bdef"
            ),
            "https://s3.example.com/b/k?AWSAccessKeyId=REDACTED&Expires=1700000000&Signature=REDACTED"
        );
        assert_eq!(
            full("https://x.example.com/?X-Goog-Signature=f00&X-Amz-Security-Token=t&sig=s&page=2"),
            "https://x.example.com/?X-Goog-Signature=REDACTED&X-Amz-Security-Token=REDACTED&sig=REDACTED&page=2"
        );
        assert_eq!(
            full(
                "http://a/cb?code=xyz&state=ok&access_token=at&client_secret=cs&api-key=k&Password=p"
            ),
            "http://a/cb?code=REDACTED&state=ok&access_token=REDACTED&client_secret=REDACTED&api-key=REDACTED&Password=REDACTED"
        );
        // A percent-encoded name is recognised; its spelling is kept.
        assert_eq!(
            full("http://a/?api%5Fkey=k&q=rust"),
            "http://a/?api%5Fkey=REDACTED&q=rust"
        );
    }

    #[test]
    fn empty_values_flags_and_fragments() {
        // Nothing to hide: borrowed.
        let url = Url::parse("http://a/?token=&debug").unwrap();
        assert!(matches!(full_url(&url), Cow::Borrowed(_)));
        assert_eq!(full("http://a/p?q=1#access_token=abc"), "http://a/p?q=1");
    }

    #[test]
    fn secret_names() {
        for secret in [
            "token",
            "id_token",
            "refreshToken",
            "API_KEY",
            "apikey",
            "key",
            "sig",
            "X-Amz-Credential",
            "authorization",
            "session_id",
            "PHPSESSID",
            "jwt",
        ] {
            assert!(is_secret_name(secret), "{secret}");
        }
        for plain in [
            "page",
            "sort",
            "q",
            "id",
            "order_id",
            "limit",
            "keyword_count",
        ] {
            assert!(!is_secret_name(plain), "{plain}");
        }
    }
}
