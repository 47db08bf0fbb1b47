//! Incoming W3C context: the caller's span from `traceparent` (with its
//! `tracestate`), read by the rules every carrier shares
//! ([`crate::trace::w3c`]), and its `baggage`, read by the W3C Baggage
//! rules. Anything malformed yields nothing: the request then starts a new
//! trace, and is never refused for it.
//!
//! The layer calls these only for a request that carries the header
//! ([`super::incoming`]).

use std::borrow::Cow;

use http::HeaderMap;
use http::header::{GetAll, HeaderName};
use opentelemetry::Context;
use opentelemetry::baggage::{Baggage, BaggageExt};

use crate::trace::w3c::RemoteParent;

// Names, not `&str`s: a lookup by `&str` parses the name every time, and
// every request looks these up, with them or not.
static TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
static TRACESTATE: HeaderName = HeaderName::from_static("tracestate");
static BAGGAGE: HeaderName = HeaderName::from_static("baggage");

/// W3C Baggage: the longest header a receiver must accept, and the most
/// list members. A longer header is dropped whole; members past the limit
/// are dropped.
const MAX_BAGGAGE_BYTES: usize = 8192;
const MAX_BAGGAGE_MEMBERS: usize = 64;

/// The caller's span, when the request carries one valid `traceparent`
/// (W3C: a repeated `traceparent` is invalid). Several `tracestate` headers
/// are one list, joined in order; one that is not visible ASCII makes the
/// list invalid, so it is discarded whole.
pub(crate) fn remote_parent(headers: &HeaderMap) -> Option<RemoteParent> {
    let mut traceparents = headers.get_all(&TRACEPARENT).iter();
    let (Some(traceparent), None) = (traceparents.next(), traceparents.next()) else {
        return None;
    };
    // Read first: "If the vendor failed to parse `traceparent`, it MUST NOT
    // attempt to parse `tracestate`".
    let traceparent = traceparent.to_str().ok()?;
    let tracestate = joined(headers.get_all(&TRACESTATE), Unreadable::DiscardAll);
    RemoteParent::parse(traceparent, tracestate.as_deref())
}

/// The caller's baggage, when the request carries a non-empty one: in an
/// OpenTelemetry [`Context`] (`cx.baggage()`), the type that carries
/// baggage on (`Baggage` itself cannot be cloned into request extensions).
///
/// Read by the W3C Baggage rules: members `key=value;properties`
/// separated by commas, spaces and tabs around each part ignored; the key
/// an HTTP token; the value percent-decoded, and split from the key at the
/// first `=` only (a value may hold more, base64 padding say). A member
/// that breaks a rule is dropped, the others kept; properties are kept,
/// their values percent-decoded, as the member's metadata.
pub(crate) fn baggage(headers: &HeaderMap) -> Option<Context> {
    let header = joined(headers.get_all(&BAGGAGE), Unreadable::Skip)?;
    if header.len() > MAX_BAGGAGE_BYTES {
        return None;
    }
    let mut baggage = Baggage::new();
    let members = header
        .split(',')
        .map(ows)
        .filter(|member| !member.is_empty());
    for (key, value, properties) in members.take(MAX_BAGGAGE_MEMBERS).filter_map(baggage_member) {
        baggage.insert_with_metadata(key, value, properties);
    }
    (!baggage.is_empty()).then(|| Context::new().with_baggage(baggage))
}

/// One baggage member's key, decoded value and properties; `None` when it
/// is not a valid member.
fn baggage_member(member: &str) -> Option<(String, String, String)> {
    let (pair, properties) = member.split_once(';').unwrap_or((member, ""));
    let (key, value) = pair.split_once('=')?;
    let key = ows(key);
    if key.is_empty() || !key.bytes().all(is_token_byte) {
        return None;
    }
    let value = crate::percent::decode(ows(value))?;
    let properties: Vec<String> = properties
        .split(';')
        .map(ows)
        .filter(|property| !property.is_empty())
        .map(baggage_property)
        .collect();
    Some((key.to_owned(), value, properties.join(";")))
}

/// One property of a baggage member, as its metadata keeps it:
/// `key OWS "=" OWS value` with the value percent-decoded (kept as sent
/// when it does not decode), or a `key` alone. The key is a token, never
/// decoded: `a%41` is a key of its own, not `aA`.
fn baggage_property(property: &str) -> String {
    match property.split_once('=') {
        Some((key, value)) => {
            let value = ows(value);
            let decoded = crate::percent::decode(value);
            format!("{}={}", ows(key), decoded.as_deref().unwrap_or(value))
        }
        None => property.to_owned(),
    }
}

/// `text` without the optional white space (spaces, tabs) around it.
fn ows(text: &str) -> &str {
    text.trim_matches([' ', '\t'])
}

/// A byte of an HTTP token (RFC 9110 `tchar`).
fn is_token_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

/// What a header value that is not visible ASCII does to its list.
#[derive(Clone, Copy, PartialEq)]
enum Unreadable {
    /// Dropped; the other values make the list.
    Skip,
    /// Makes the whole list invalid.
    DiscardAll,
}

/// The values of a list header as one comma-separated value: borrowed when
/// it is sent once (the usual case), joined when repeated.
fn joined(values: GetAll<'_, http::HeaderValue>, unreadable: Unreadable) -> Option<Cow<'_, str>> {
    let mut joined: Option<Cow<'_, str>> = None;
    for value in values {
        let text = match value.to_str() {
            Ok(text) => text,
            Err(_) if unreadable == Unreadable::Skip => continue,
            Err(_) => return None,
        };
        joined = Some(match joined {
            None => Cow::Borrowed(text),
            Some(before) => Cow::Owned(format!("{before},{text}")),
        });
    }
    joined
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::{SpanId, TraceId};

    use super::*;
    use crate::trace::w3c::TraceState;

    // As a caller writes them (these shadow the statics of the module).
    const TRACEPARENT: &str = "traceparent";
    const TRACESTATE: &str = "tracestate";
    const BAGGAGE: &str = "baggage";

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, http::HeaderValue::from_static(value));
        }
        headers
    }

    const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn a_valid_traceparent_is_the_remote_parent() {
        let parent = remote_parent(&headers(&[(TRACEPARENT, PARENT)])).expect("valid");
        assert_eq!(
            parent.ids.trace_id,
            TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap()
        );
        assert_eq!(
            parent.ids.span_id,
            SpanId::from_hex("00f067aa0ba902b7").unwrap()
        );
        assert!(parent.ids.sampled);
        assert!(!parent.ids.random);

        for (flags, sampled, random) in [
            ("00", false, false),
            ("02", false, true),
            ("03", true, true),
        ] {
            let mut map = HeaderMap::new();
            map.insert(
                TRACEPARENT,
                PARENT.replace("-01", &format!("-{flags}")).parse().unwrap(),
            );
            let ids = remote_parent(&map).expect("valid").ids;
            assert_eq!((ids.sampled, ids.random), (sampled, random), "{flags}");
        }
    }

    #[test]
    fn later_versions_may_add_fields() {
        let v1 = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future";
        let mut map = HeaderMap::new();
        map.insert(TRACEPARENT, v1.parse().unwrap());
        assert!(remote_parent(&map).is_some());
        map.insert(TRACEPARENT, format!("{}x", &v1[..55]).parse().unwrap());
        assert_eq!(remote_parent(&map), None);
    }

    #[test]
    fn tracestate_is_kept_and_repeated_headers_are_joined() {
        let parent = remote_parent(&headers(&[
            (TRACEPARENT, PARENT),
            (TRACESTATE, "rojo=00f067aa0ba902b7"),
            (TRACESTATE, "congo=t61rcWkgMzE"),
        ]))
        .expect("valid");
        assert_eq!(
            parent.trace_state.header(),
            "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"
        );
        // One list across the headers: a key repeated in the second is
        // dropped there, the list kept.
        let parent = remote_parent(&headers(&[
            (TRACEPARENT, PARENT),
            (TRACESTATE, "rojo=1,foo@@bar=2"),
            (TRACESTATE, "rojo=3,congo=4"),
        ]))
        .expect("valid");
        assert_eq!(parent.trace_state.header(), "rojo=1,foo@@bar=2,congo=4");
    }

    #[test]
    fn malformed_or_repeated_traceparents_give_nothing() {
        // The rules themselves are trace::w3c's (tested there).
        let mut map = HeaderMap::new();
        map.insert(TRACEPARENT, "garbage".parse().unwrap());
        map.insert(TRACESTATE, "a=b".parse().unwrap());
        assert_eq!(remote_parent(&map), None, "a tracestate alone is no parent");
        map.insert(TRACEPARENT, format!("{PARENT}-").parse().unwrap());
        assert_eq!(remote_parent(&map), None, "version 00 has four fields");
        let twice = headers(&[(TRACEPARENT, PARENT), (TRACEPARENT, PARENT)]);
        assert_eq!(remote_parent(&twice), None);
        assert_eq!(remote_parent(&HeaderMap::new()), None);
    }

    #[test]
    fn baggage_is_read_when_present() {
        let context =
            baggage(&headers(&[(BAGGAGE, "tenant=acme,region=eu%20west")])).expect("baggage");
        let baggage = context.baggage();
        assert_eq!(
            baggage.get("tenant").map(|v| v.as_str().to_owned()),
            Some("acme".to_owned())
        );
        assert_eq!(
            baggage.get("region").map(|v| v.as_str().to_owned()),
            Some("eu west".to_owned())
        );
        assert!(super::baggage(&HeaderMap::new()).is_none());
    }

    /// Each key's value and metadata, of the baggage of `header`.
    fn members(header: &'static str) -> Vec<(String, String, String)> {
        let Some(context) = baggage(&headers(&[(BAGGAGE, header)])) else {
            return Vec::new();
        };
        let mut members: Vec<_> = context
            .baggage()
            .iter()
            .map(|(key, (value, metadata))| {
                (
                    key.to_string(),
                    value.to_string(),
                    metadata.as_str().to_owned(),
                )
            })
            .collect();
        members.sort();
        members
    }

    fn member(key: &str, value: &str, metadata: &str) -> (String, String, String) {
        (key.to_owned(), value.to_owned(), metadata.to_owned())
    }

    #[test]
    fn baggage_follows_the_w3c_rules() {
        assert_eq!(
            members("k=YWJjZA==,e=a=b"),
            [member("e", "a=b", ""), member("k", "YWJjZA==", "")],
            "a value may hold `=`"
        );
        assert_eq!(
            members(" k = %20padded%20 ;\tprop1 ; p2=v%2C2 "),
            [member("k", " padded ", "prop1;p2=v,2")],
            "spaces around parts go, encoded ones stay"
        );
        assert_eq!(
            members("k=v;a%41 = b%41;%41"),
            [member("k", "v", "a%41=bA;%41")],
            "a property's value is decoded, its key is not"
        );
        assert_eq!(
            members("ok=1,bad key=2,novalue,b(ad=3,enc=%zz,=4"),
            [member("ok", "1", "")],
            "invalid members are dropped, the rest kept"
        );
        assert!(members("").is_empty());
    }

    #[test]
    fn baggage_limits() {
        let many = (0..70)
            .map(|i| format!("k{i}=v"))
            .collect::<Vec<_>>()
            .join(",");
        let mut map = HeaderMap::new();
        map.insert(BAGGAGE, many.parse().unwrap());
        let context = baggage(&map).expect("baggage");
        assert_eq!(context.baggage().len(), MAX_BAGGAGE_MEMBERS);
        let long = format!("k={}", "v".repeat(MAX_BAGGAGE_BYTES));
        map.insert(BAGGAGE, long.parse().unwrap());
        assert!(baggage(&map).is_none(), "too long: dropped whole");
    }

    #[test]
    fn an_unreadable_tracestate_header_discards_the_list() {
        let mut map = headers(&[(TRACEPARENT, PARENT), (TRACESTATE, "a=1")]);
        map.append(
            TRACESTATE,
            http::HeaderValue::from_bytes(b"b=\xe9").unwrap(),
        );
        let parent = remote_parent(&map).expect("the traceparent stands");
        assert_eq!(parent.trace_state, TraceState::NONE);
        // An unreadable baggage header is dropped, the others kept.
        let mut map = headers(&[(BAGGAGE, "a=1")]);
        map.append(BAGGAGE, http::HeaderValue::from_bytes(b"b=\xe9").unwrap());
        assert_eq!(baggage(&map).expect("a").baggage().len(), 1);
    }
}
