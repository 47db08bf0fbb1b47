//! The request id: the caller's `X-Request-ID` when it is sane (at most
//! [`MAX_REQUEST_ID_LEN`] characters of `[A-Za-z0-9._-]`), otherwise a new
//! one (32 random lowercase hex digits). A header that is not sane is
//! replaced, never passed on: it ends up in log lines and other services'
//! headers, where an attacker's newlines, quotes or megabytes do harm.

use http::header::HeaderName;
use http::{HeaderMap, HeaderValue};

pub use super::{MAX_REQUEST_ID_LEN, REQUEST_ID_HEADER};

static HEADER: HeaderName = HeaderName::from_static(REQUEST_ID_HEADER);

pub(crate) fn header_name() -> HeaderName {
    HEADER.clone()
}

/// A request id a caller may choose: 1 to [`MAX_REQUEST_ID_LEN`] bytes of
/// ASCII letters, digits, `.`, `_` and `-`.
pub(crate) fn is_acceptable(id: &[u8]) -> bool {
    (1..=MAX_REQUEST_ID_LEN).contains(&id.len())
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// The caller's `X-Request-ID`, when acceptable; otherwise the layer
/// [`assign`]s a new one, which then replaces the header so that the
/// application (and any client it forwards headers with) sees the same id
/// as the log lines.
pub(crate) fn take(headers: &HeaderMap) -> Option<HeaderValue> {
    let mut given = headers.get_all(&HEADER).iter();
    // One acceptable value; a repeated header is as suspect as a bad one.
    match (given.next(), given.next()) {
        (Some(value), None) if is_acceptable(value.as_bytes()) => Some(value.clone()),
        _ => None,
    }
}

/// A new request id, set as the request's `X-Request-ID` (replacing any).
pub(crate) fn assign(headers: &mut HeaderMap) -> HeaderValue {
    let id = generate();
    headers.insert(HEADER.clone(), id.clone());
    id
}

/// 32 lowercase hex digits of a random 128-bit number.
pub(crate) fn generate() -> HeaderValue {
    let digits = crate::hex::hex_u128(fastrand::u128(..));
    // Owned by the `Bytes` a header value holds, behind the reference count
    // its clones (request header, log context, response header) share: one
    // allocation. `Bytes::from(Vec)` would allocate again at the first clone.
    HeaderValue::from_maybe_shared(bytes::Bytes::from_owner(digits))
        .unwrap_or_else(|_| HeaderValue::from_static("0"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acceptable_ids_are_short_and_plain() {
        for ok in [
            "a",
            "req-42",
            "0f8e4c7a.b_c-D",
            "550e8400-e29b-41d4-a716-446655440000",
        ] {
            assert!(is_acceptable(ok.as_bytes()), "{ok}");
        }
        assert!(is_acceptable("x".repeat(MAX_REQUEST_ID_LEN).as_bytes()));
        for bad in [
            "",
            "has space",
            "new\nline",
            "quote\"",
            "semi;colon",
            "slash/",
            "é",
            "<script>",
        ] {
            assert!(!is_acceptable(bad.as_bytes()), "{bad:?}");
        }
        assert!(!is_acceptable(
            "x".repeat(MAX_REQUEST_ID_LEN + 1).as_bytes()
        ));
    }

    #[test]
    fn generated_ids_are_32_hex_digits_and_differ() {
        let a = generate();
        let b = generate();
        assert_ne!(a, b);
        for id in [a, b] {
            assert_eq!(id.len(), 32);
            assert!(
                id.as_bytes()
                    .iter()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
            );
            assert!(is_acceptable(id.as_bytes()));
        }
    }

    /// What the layer does with a request that carries the header.
    fn take_or_assign(headers: &mut HeaderMap) -> HeaderValue {
        take(headers).unwrap_or_else(|| assign(headers))
    }

    #[test]
    fn a_sane_header_is_kept_and_a_bad_one_replaced() {
        let mut headers = HeaderMap::new();
        headers.insert(REQUEST_ID_HEADER, HeaderValue::from_static("abc-123"));
        assert_eq!(take_or_assign(&mut headers), "abc-123");
        assert_eq!(headers[REQUEST_ID_HEADER], "abc-123");

        let oversized = "y".repeat(MAX_REQUEST_ID_LEN + 1);
        let mut headers = HeaderMap::new();
        headers.insert(REQUEST_ID_HEADER, oversized.parse().unwrap());
        let id = take_or_assign(&mut headers);
        assert_eq!(id.len(), 32);
        assert_eq!(headers.get_all(REQUEST_ID_HEADER).iter().count(), 1);
        assert_eq!(headers[REQUEST_ID_HEADER], id);

        let mut headers = HeaderMap::new();
        headers.append(REQUEST_ID_HEADER, HeaderValue::from_static("one"));
        headers.append(REQUEST_ID_HEADER, HeaderValue::from_static("two"));
        let id = take_or_assign(&mut headers);
        assert_ne!(id, "one");
        assert_eq!(headers.get_all(REQUEST_ID_HEADER).iter().count(), 1);

        let mut headers = HeaderMap::new();
        let id = take_or_assign(&mut headers);
        assert_eq!(headers[REQUEST_ID_HEADER], id);
    }
}
