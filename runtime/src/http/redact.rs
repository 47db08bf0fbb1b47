//! `url.full` without secrets: what the client span says it called.
//!
//! Following the OpenTelemetry semantic conventions, credentials in the URL
//! (`https://user:pass@host/`) become `REDACTED:REDACTED` (always: the
//! conventions require it), and the values of query parameters with a
//! sensitive name become `REDACTED` (the redaction engine's key rule for
//! query parameters, with the rest of its configuration: `redaction.keys`,
//! `allow_keys`, `enabled`). The conventions name `AWSAccessKeyId`,
//! `Signature`, `sig` and `X-Goog-Signature`; the key rule covers those and
//! every other secret name. The fragment (never sent to the server) is
//! dropped. What the value patterns find elsewhere in the URL (an e-mail
//! address in the path) is replaced on the export thread, like any other
//! attribute's.
//!
//! A secret in the path itself (`/reset/<token>`) cannot be told from an
//! id, and is kept: call such endpoints with the secret in a header.

use std::borrow::Cow;

use url::Url;

use crate::redact::{self, Rule, Signal, URL_REPLACEMENT};

/// `url` as the `url.full` attribute: credentials and secret query values
/// replaced by `REDACTED`, no fragment. Borrows `url` when there is nothing
/// to remove (the usual case).
pub(crate) fn full_url(url: &Url) -> Cow<'_, str> {
    let has_credentials = !url.username().is_empty() || url.password().is_some();
    let query = url
        .query()
        .map(|query| redact::active().query(query, Signal::Traces));
    let secret_query = matches!(query, Some(Cow::Owned(_)));
    if !has_credentials && !secret_query && url.fragment().is_none() {
        return Cow::Borrowed(url.as_str());
    }
    let mut redacted = url.clone();
    redacted.set_fragment(None);
    if has_credentials {
        // Only URLs with a host can carry credentials, and those accept both.
        let _ = redacted.set_username(URL_REPLACEMENT);
        let _ = redacted.set_password(Some(URL_REPLACEMENT));
        redact::count(Signal::Traces, Rule::UrlCredentials, 1);
    }
    if let Some(Cow::Owned(query)) = &query {
        redacted.set_query(Some(query));
    }
    Cow::Owned(redacted.into())
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
}
