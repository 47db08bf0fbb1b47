//! Query strings (`a=1&token=abc`) with the values of sensitive parameters
//! replaced: the key rule applied to each parameter's decoded name, with
//! the URL words (`key`, `code`, `sig`, `pass`) counted in, and the value
//! patterns to each decoded value (`note=ada%40example.com` holds an
//! e-mail address that the encoded text hides from them). Everything else
//! (order, encoding, other parameters, empty values, flags) is kept as it
//! was written.

use std::borrow::Cow;

use super::keys::KeyRule;

/// What replaces a secret in a URL (`url.full`, `url.query`): `REDACTED`,
/// as the OpenTelemetry semantic conventions write it there (and as
/// backends that look for it expect), whatever `redaction.replacement` is.
#[cfg_attr(not(any(feature = "axum", feature = "reqwest")), allow(dead_code))]
pub(crate) const URL_REPLACEMENT: &str = "REDACTED";

/// What a query parameter's value was redacted for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(any(feature = "axum", feature = "reqwest")), allow(dead_code))]
pub(super) enum Found {
    /// Its name is sensitive.
    Key,
    /// The value patterns found a secret in it (counted by them).
    Value,
}

/// `query` with the whole value of each parameter whose name is sensitive,
/// or whose decoded value `has_secret`, replaced by `replacement`, and how
/// many were for their name; borrowed when nothing was (the usual case).
#[cfg_attr(not(any(feature = "axum", feature = "reqwest")), allow(dead_code))]
pub(super) fn redact_query<'a>(
    keys: &KeyRule,
    has_secret: impl Fn(&str) -> bool,
    query: &'a str,
    replacement: &str,
) -> (Cow<'a, str>, usize) {
    let found = |piece: &str| {
        let (name, value) = piece_parts(piece)?;
        if value.is_empty() {
            None
        } else if keys.is_sensitive_param(&name) {
            Some(Found::Key)
        } else {
            has_secret(&value).then_some(Found::Value)
        }
    };
    // Most queries have nothing to hide: looked at once, then borrowed.
    let verdicts: smallvec::SmallVec<[Option<Found>; 8]> = query.split('&').map(found).collect();
    if verdicts.iter().all(Option::is_none) {
        return (Cow::Borrowed(query), 0);
    }
    let mut out = String::with_capacity(query.len());
    let mut by_name = 0;
    for (i, (piece, verdict)) in query.split('&').zip(verdicts).enumerate() {
        if i > 0 {
            out.push('&');
        }
        match (piece.split_once('='), verdict) {
            (Some((name, _)), Some(found)) => {
                out.push_str(name);
                out.push('=');
                out.push_str(replacement);
                by_name += usize::from(found == Found::Key);
            }
            _ => out.push_str(piece),
        }
    }
    (Cow::Owned(out), by_name)
}

/// The decoded name and value of one `name=value` query piece; `None` for
/// a flag (no `=`).
#[cfg_attr(not(any(feature = "axum", feature = "reqwest")), allow(dead_code))]
fn piece_parts(piece: &str) -> Option<(Cow<'_, str>, Cow<'_, str>)> {
    if !piece.contains('=') {
        return None;
    }
    url::form_urlencoded::parse(piece.as_bytes()).next()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redacted(query: &str) -> (String, usize) {
        let (out, count) = redact_query(&KeyRule::default(), |_| false, query, "REDACTED");
        (out.into_owned(), count)
    }

    #[test]
    fn secret_values_are_replaced_and_the_rest_kept() {
        assert_eq!(
            redacted("AWSAccessKeyId=AKIA123&Expires=1700000000&Signature=abc%2Bdef"),
            (
                "AWSAccessKeyId=REDACTED&Expires=1700000000&Signature=REDACTED".to_owned(),
                2
            )
        );
        assert_eq!(
            redacted("code=xyz&state=ok&access_token=at&client_secret=cs&api-key=k&Password=p"),
            (
                "code=REDACTED&state=ok&access_token=REDACTED&client_secret=REDACTED\
                 &api-key=REDACTED&Password=REDACTED"
                    .to_owned(),
                5
            )
        );
        // A percent-encoded name is recognised; its spelling is kept.
        assert_eq!(
            redacted("api%5Fkey=k&q=rust"),
            ("api%5Fkey=REDACTED&q=rust".to_owned(), 1)
        );
    }

    #[test]
    fn decoded_values_with_a_secret_are_replaced_whole() {
        let has_at = |value: &str| value.contains('@');
        let (out, by_name) = redact_query(
            &KeyRule::default(),
            has_at,
            "note=ada%40example.com&q=a+b&token=t",
            "REDACTED",
        );
        assert_eq!(out, "note=REDACTED&q=a+b&token=REDACTED");
        assert_eq!(by_name, 1, "the note was the patterns'");
    }

    #[test]
    fn plain_queries_empty_values_and_flags_are_borrowed() {
        for query in ["page=2&sort=asc", "token=&debug", "", "&&", "q"] {
            let (out, count) = redact_query(&KeyRule::default(), |_| false, query, "REDACTED");
            assert!(matches!(out, Cow::Borrowed(_)), "{query}");
            assert_eq!(count, 0);
        }
    }
}
