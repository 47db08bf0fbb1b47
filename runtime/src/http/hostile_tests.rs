//! Property tests of the server layer's readers of request headers against
//! hostile input: `baggage` and `X-Request-ID`. Whatever a client sends,
//! reading never panics and stays within the limits; what a writer
//! following the W3C Baggage rules sends is read back exactly; a request id
//! is kept only when it is sane, and replaced whole otherwise. Named
//! `hostile_*` for `scripts/fuzz.sh`.

use std::collections::BTreeMap;

use http::{HeaderMap, HeaderValue};
use opentelemetry::baggage::BaggageExt;
use proptest::prelude::*;

use super::propagation::baggage;
use super::request_id::{REQUEST_ID_HEADER, assign, is_acceptable, take};

/// W3C Baggage's limits, as the reader applies them.
const MAX_BAGGAGE_BYTES: usize = 8192;
const MAX_BAGGAGE_MEMBERS: usize = 64;

/// A header map holding `name` once per value, for the values `http`
/// accepts as header values (what a server can receive at all).
fn headers(name: &'static str, values: &[Vec<u8>]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for value in values {
        if let Ok(value) = HeaderValue::from_bytes(value) {
            headers.append(name, value);
        }
    }
    headers
}

/// Bytes shaped like a `baggage` header: members with keys, values and
/// properties made of the characters that matter (separators, `%`
/// escapes valid or not, white space, non-ASCII); sometimes a long list
/// around the 8192-byte and 64-member limits; or any bytes at all.
fn baggage_like() -> impl Strategy<Value = Vec<u8>> {
    let part =
        "([a-zA-Z0-9_.-]{0,6}|%[0-9a-fA-F]{0,2}|%[g-z]{2}|[ \t]{1,2}|[=;,]|[\\x21-\\x7e]|[é€😀])";
    let member = prop::collection::vec(part, 0..6).prop_map(|parts| parts.concat());
    let long = (1..300_usize, "[a-z]{1,40}").prop_map(|(members, value)| {
        (0..members)
            .map(|i| format!("k{i}={value}"))
            .collect::<Vec<_>>()
            .join(",")
            .into_bytes()
    });
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..128),
        1 => long,
        4 => prop::collection::vec(member, 0..16).prop_map(|members| members.join(",").into_bytes()),
    ]
}

/// A baggage key: an HTTP token.
fn token() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9!#$%&'*+.^_`|~-]{1,12}"
}

/// A value to carry: mostly short, of any characters.
fn text() -> BoxedStrategy<String> {
    prop_oneof![
        3 => "[ -~]{0,12}",
        1 => "[é€😀\\x00-\\x1f]{0,6}",
        1 => any::<String>(),
    ]
    .boxed()
}

/// `text` percent-encoded as W3C Baggage asks of a writer: every byte
/// outside `baggage-octet` (`%x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E`),
/// and `%` itself.
fn percent_encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        let plain = matches!(byte, 0x21 | 0x23..=0x2b | 0x2d..=0x3a | 0x3c..=0x5b | 0x5d..=0x7e)
            && byte != b'%';
        if plain {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Members to write, each with its value and properties (a property's
/// value optional).
type Members = BTreeMap<String, (String, Vec<(String, Option<String>)>)>;

fn written_members(
    text: BoxedStrategy<String>,
    count: std::ops::Range<usize>,
) -> impl Strategy<Value = Members> {
    let properties = prop::collection::vec((token(), prop::option::of(text.clone())), 0..3);
    prop::collection::btree_map(token(), (text, properties), count)
}

/// Each key's value and metadata, as the reader hands them to the handler.
fn read_back(headers: &HeaderMap) -> Option<BTreeMap<String, (String, String)>> {
    let context = baggage(headers)?;
    Some(
        context
            .baggage()
            .iter()
            .map(|(key, (value, metadata))| {
                (
                    key.to_string(),
                    (value.to_string(), metadata.as_str().to_owned()),
                )
            })
            .collect(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig {
        max_shrink_iters: 4096,
        ..ProptestConfig::default()
    })]

    #[test]
    fn hostile_baggage_stays_within_the_limits(values in prop::collection::vec(baggage_like(), 0..4)) {
        let headers = headers("baggage", &values);
        let joined_len = headers
            .get_all("baggage")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .map(|value| value.len() + 1)
            .sum::<usize>();
        let Some(members) = read_back(&headers) else {
            return Ok(());
        };
        // Refused whole past 8192 bytes, never cut.
        prop_assert!(joined_len <= MAX_BAGGAGE_BYTES + 1);
        prop_assert!(!members.is_empty());
        prop_assert!(members.len() <= MAX_BAGGAGE_MEMBERS);
        for (key, (value, _)) in &members {
            prop_assert!(!key.is_empty());
            prop_assert!(key.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)), "{:?}", key);
            prop_assert!(value.len() <= MAX_BAGGAGE_BYTES);
        }
    }

    #[test]
    fn hostile_baggage_written_by_the_w3c_rules_is_read_back(
        members in prop_oneof![
            // A few members of any text, or about as many as are read.
            4 => written_members(text(), 0..12),
            1 => written_members("[ -~]{0,6}".boxed(), 60..72),
        ],
    ) {
        let mut written = Vec::new();
        let mut expected = BTreeMap::new();
        for (key, (value, properties)) in &members {
            let mut member = format!("{key}={}", percent_encode(value));
            let mut metadata = Vec::new();
            for (name, property_value) in properties {
                match property_value {
                    Some(property_value) => {
                        member.push_str(&format!(";{name}={}", percent_encode(property_value)));
                        metadata.push(format!("{name}={property_value}"));
                    }
                    None => {
                        member.push_str(&format!(";{name}"));
                        metadata.push(name.clone());
                    }
                }
            }
            written.push(member);
            // The first 64 members are read, the rest dropped.
            if expected.len() < MAX_BAGGAGE_MEMBERS {
                // The SDK's `BaggageMetadata` trims what it is given: white
                // space ending the last property's value goes.
                let metadata = metadata.join(";").trim().to_owned();
                expected.insert(key.clone(), (value.clone(), metadata));
            }
        }
        let header = written.join(",");
        let read = read_back(&headers("baggage", &[header.clone().into_bytes()]));
        if header.len() > MAX_BAGGAGE_BYTES || expected.is_empty() {
            prop_assert_eq!(read, None);
        } else {
            prop_assert_eq!(read, Some(expected));
        }
    }

    #[test]
    fn hostile_request_ids_are_kept_only_when_sane(
        values in prop::collection::vec(
            prop_oneof![
                3 => "[A-Za-z0-9._-]{0,130}".prop_map(String::into_bytes),
                1 => prop::collection::vec(any::<u8>(), 0..140),
            ],
            0..3,
        ),
    ) {
        let mut headers = headers(REQUEST_ID_HEADER, &values);
        let sent: Vec<HeaderValue> = headers.get_all(REQUEST_ID_HEADER).iter().cloned().collect();
        // What the layer does: the one acceptable id sent, else a new one.
        let id = take(&headers).unwrap_or_else(|| assign(&mut headers));
        prop_assert!(is_acceptable(id.as_bytes()), "{:?}", id);
        // The request carries that one id, whatever it carried before.
        let carried: Vec<&HeaderValue> = headers.get_all(REQUEST_ID_HEADER).iter().collect();
        prop_assert_eq!(carried, vec![&id]);
        match sent.as_slice() {
            [one] if is_acceptable(one.as_bytes()) => prop_assert_eq!(&id, one),
            _ => {
                // Replaced whole: a new id, nothing of what was sent.
                prop_assert_eq!(id.len(), 32);
                prop_assert!(id.as_bytes().iter().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b)));
            }
        }
    }
}
