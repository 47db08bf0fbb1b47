//! Query strings (`a=1&token=abc`) with the values of sensitive parameters
//! replaced: the key rule applied to each parameter's decoded name, with
//! the URL words (`key`, `code`, `sig`, `pass`) counted in. Everything else
//! (order, encoding, other parameters, empty values, flags) is kept as it
//! was written.

use std::borrow::Cow;

use super::keys::KeyRule;

/// What replaces a secret in a URL (`url.full`, `url.query`): `REDACTED`,
/// as the OpenTelemetry semantic conventions write it there (and as
/// backends that look for it expect), whatever `redaction.replacement` is.
#[cfg_attr(not(any(feature = "axum", feature = "reqwest")), allow(dead_code))]
pub(crate) const URL_REPLACEMENT: &str = "REDACTED";

/// `query` with the values of sensitive parameters replaced by
/// `replacement`, and how many were; borrowed when there was none (the
/// usual case).
#[cfg_attr(not(any(feature = "axum", feature = "reqwest")), allow(dead_code))]
pub(super) fn redact_query<'a>(
    keys: &KeyRule,
    query: &'a str,
    replacement: &str,
) -> (Cow<'a, str>, usize) {
    let secret = |piece: &str| {
        piece
            .split_once('=')
            .is_some_and(|(_, value)| !value.is_empty())
            && keys.is_sensitive_param(&piece_name(piece))
    };
    if !query.split('&').any(secret) {
        return (Cow::Borrowed(query), 0);
    }
    let mut out = String::with_capacity(query.len());
    let mut redacted = 0;
    for (i, piece) in query.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        match piece.split_once('=') {
            Some((name, _)) if secret(piece) => {
                out.push_str(name);
                out.push('=');
                out.push_str(replacement);
                redacted += 1;
            }
            _ => out.push_str(piece),
        }
    }
    (Cow::Owned(out), redacted)
}

/// The decoded name of one `name[=value]` query piece.
#[cfg_attr(not(any(feature = "axum", feature = "reqwest")), allow(dead_code))]
fn piece_name(piece: &str) -> Cow<'_, str> {
    url::form_urlencoded::parse(piece.as_bytes())
        .next()
        .map(|(name, _)| name)
        .unwrap_or(Cow::Borrowed(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redacted(query: &str) -> (String, usize) {
        let (out, count) = redact_query(&KeyRule::default(), query, "REDACTED");
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
    fn plain_queries_empty_values_and_flags_are_borrowed() {
        for query in ["page=2&sort=asc", "token=&debug", "", "&&", "q"] {
            let (out, count) = redact_query(&KeyRule::default(), query, "REDACTED");
            assert!(matches!(out, Cow::Borrowed(_)), "{query}");
            assert_eq!(count, 0);
        }
    }
}
