//! Property tests of the Trace Context readers against hostile input:
//! whatever arrives, reading never panics, what is accepted is exactly what
//! the input said (no id or member that was not sent), what o11y writes is
//! read back as written, and a refused `tracestate` leaves no part of it
//! behind. Named `hostile_*` so that `scripts/fuzz.sh` runs them for as many
//! cases as it is told (`PROPTEST_CASES`); `cargo test` runs proptest's
//! default number.

use opentelemetry::trace::{SpanId, TraceId};
use proptest::prelude::*;

use super::tracestate::MAX_HEADER_LEN;
use super::{RemoteParent, TraceState, format_traceparent, parse_traceparent};
use crate::trace::Ids;

const VALID_TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// Text shaped like a `traceparent`, valid or nearly: the cases a reader
/// gets wrong (upper case, a digit too many or too few, zero ids, later
/// versions, trailing fields, white space).
fn traceparent_like() -> impl Strategy<Value = String> {
    let version = prop_oneof!["00", "01", "cc", "fe", "ff", "[0-9a-fA-F]{1,3}"];
    let trace_id = prop_oneof![
        4 => "[0-9a-f]{32}",
        1 => Just("0".repeat(32)),
        1 => "[0-9a-fA-F]{30,34}",
    ];
    let span_id = prop_oneof![
        4 => "[0-9a-f]{16}",
        1 => Just("0".repeat(16)),
        1 => "[0-9a-fA-F]{15,17}",
    ];
    let flags = prop_oneof![3 => "[0-9a-f]{2}", 1 => "[0-9a-zA-Z]{1,3}"];
    let tail = prop_oneof![
        3 => Just(String::new()),
        1 => "-[ -~]{0,12}",
        1 => "[ -~]{1,4}",
    ];
    let space = prop_oneof![3 => Just(String::new()), 1 => "[ \t\n]{1,3}"];
    (
        space.clone(),
        version,
        trace_id,
        span_id,
        flags,
        tail,
        space,
    )
        .prop_map(|(before, version, trace_id, span_id, flags, tail, after)| {
            format!("{before}{version}-{trace_id}-{span_id}-{flags}{tail}{after}")
        })
}

/// Anything at all, or text shaped like what is looked for.
fn hostile(shaped: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
    prop_oneof![
        1 => any::<String>(),
        1 => "[ -~]{0,80}",
        4 => shaped,
    ]
}

/// A key of the Level 2 grammar, mostly short, sometimes up to 256
/// characters, with `@` anywhere after the first.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => "[a-z0-9][a-z0-9_*/@-]{0,12}",
        1 => "[a-z0-9][a-z0-9_*/@-]{200,255}",
        1 => "[a-z0-9]{1,20}@[a-z0-9_*/@-]{14,40}",
    ]
}

/// A value: printable ASCII but `,` and `=`, not ending in a space.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => "[\\x20-\\x2b\\x2d-\\x3c\\x3e-\\x7e]{0,12}[\\x21-\\x2b\\x2d-\\x3c\\x3e-\\x7e]",
        1 => "[\\x20-\\x2b\\x2d-\\x3c\\x3e-\\x7e]{200,255}[\\x21-\\x2b\\x2d-\\x3c\\x3e-\\x7e]",
    ]
}

/// Optional white space as a sender may put it around members.
fn ows() -> impl Strategy<Value = String> {
    prop_oneof![4 => Just(String::new()), 1 => "[ \t]{1,3}"]
}

/// A written `tracestate`: up to 32 members (some repeating an earlier
/// key), with white space and empty members in between; and the list a
/// reader must pass on (each key's first member, in order).
fn written_tracestate() -> impl Strategy<Value = (String, Vec<(String, String)>)> {
    let member = (
        key(),
        value(),
        any::<prop::sample::Index>(),
        0..4_u8,
        ows(),
        ows(),
    );
    prop::collection::vec(member, 0..=32).prop_map(|members| {
        let mut text = String::new();
        let mut sent: Vec<(String, String)> = Vec::new();
        for (key, value, earlier, kind, before, after) in members {
            // One member in four repeats a key sent before; one in eight
            // is preceded by an empty member.
            let key = match kind {
                0 if !sent.is_empty() => sent[earlier.index(sent.len())].0.clone(),
                _ => key,
            };
            if !text.is_empty() || kind == 1 {
                text.push(',');
            }
            if kind == 1 && earlier.index(2) == 0 {
                text.push_str(&before);
                text.push(',');
            }
            text.push_str(&before);
            text.push_str(&key);
            text.push('=');
            text.push_str(&value);
            text.push_str(&after);
            sent.push((key, value));
        }
        let mut expected: Vec<(String, String)> = Vec::new();
        for (key, value) in sent {
            if expected.iter().all(|(kept, _)| *kept != key) {
                expected.push((key, value));
            }
        }
        (text, expected)
    })
}

/// Text shaped like a `tracestate`: a written one, sometimes with one
/// character replaced by anything (a comma, an upper-case letter, a
/// control character, a multi-byte one).
fn tracestate_like() -> impl Strategy<Value = String> {
    (
        written_tracestate(),
        any::<prop::sample::Index>(),
        any::<char>(),
        any::<bool>(),
    )
        .prop_map(|((text, _), at, replacement, mutate)| {
            if !mutate || text.is_empty() {
                return text;
            }
            let mut chars: Vec<char> = text.chars().collect();
            let at = at.index(chars.len());
            chars[at] = replacement;
            chars.into_iter().collect()
        })
}

/// The members of `text` as a sender wrote them, white space trimmed.
fn sent_members(text: &str) -> Vec<&str> {
    text.split(',')
        .map(|member| member.trim_matches([' ', '\t']))
        .filter(|member| !member.is_empty())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig {
        max_shrink_iters: 4096,
        ..ProptestConfig::default()
    })]

    #[test]
    fn hostile_traceparent_reads_only_what_was_sent(text in hostile(traceparent_like())) {
        let Some(ids) = parse_traceparent(&text) else {
            return Ok(());
        };
        let text = text.trim();
        prop_assert_ne!(ids.trace_id, TraceId::INVALID);
        prop_assert_ne!(ids.span_id, SpanId::INVALID);
        // The fields are the input's, nothing made up.
        prop_assert_eq!(&text[3..35], ids.trace_id.to_string());
        prop_assert_eq!(&text[36..52], ids.span_id.to_string());
        let flags = u8::from_str_radix(&text[53..55], 16).expect("read as hex");
        prop_assert_eq!((flags & 1 != 0, flags & 2 != 0), (ids.sampled, ids.random));
        prop_assert!(text.len() == 55 || (!text.starts_with("00") && text.as_bytes()[55] == b'-'));
        // Passed on as version 00, which reads back the same.
        let written = format_traceparent(ids);
        prop_assert_eq!(written.len(), 55);
        prop_assert_eq!(parse_traceparent(&written), Some(ids));
    }

    #[test]
    fn hostile_traceparent_written_is_read_back(
        trace_id in 1..=u128::MAX,
        span_id in 1..=u64::MAX,
        sampled in any::<bool>(),
        random in any::<bool>(),
    ) {
        let ids = Ids {
            trace_id: TraceId::from(trace_id),
            span_id: SpanId::from(span_id),
            sampled,
            random,
        };
        prop_assert_eq!(parse_traceparent(&format_traceparent(ids)), Some(ids));
    }

    #[test]
    fn hostile_tracestate_passes_on_only_what_was_sent(text in hostile(tracestate_like())) {
        let parsed = TraceState::parse(&text);
        let remote = RemoteParent::parse(VALID_TRACEPARENT, Some(&text)).expect("valid traceparent");
        match parsed {
            None => {
                // Refused whole: nothing of it is kept.
                prop_assert_eq!(remote.trace_state, TraceState::NONE);
            }
            Some(state) => {
                prop_assert_eq!(&remote.trace_state, &state);
                let header = state.header();
                prop_assert!(header.len() <= MAX_HEADER_LEN);
                prop_assert!(header.len() <= text.len());
                // Each member kept was sent, in the order sent, each key once.
                let sent = sent_members(&text);
                prop_assert!(sent.len() <= 32);
                let mut from = 0;
                let mut keys = Vec::new();
                for (key, value) in state.members() {
                    let member = format!("{key}={value}");
                    let at = sent[from..].iter().position(|sent| *sent == member);
                    prop_assert!(at.is_some(), "{:?} was not sent in {:?}", member, text);
                    from += at.unwrap_or_default() + 1;
                    prop_assert!(!keys.contains(&key), "{} twice", key);
                    keys.push(key);
                }
                // What is passed on reads back as itself.
                prop_assert_eq!(TraceState::parse(header), Some(state.clone()));
                // The SDK's copy holds a part of it, in order.
                let sdk = state.to_sdk().header();
                let ours: Vec<String> = state.members().map(|(k, v)| format!("{k}={v}")).collect();
                let mut from = 0;
                for member in sdk.split(',').filter(|m| !m.is_empty()) {
                    let at = ours[from..].iter().position(|ours| ours == member);
                    prop_assert!(at.is_some(), "{:?} is not o11y's", member);
                    from += at.unwrap_or_default() + 1;
                }
            }
        }
    }

    #[test]
    fn hostile_tracestate_written_is_read_back_without_duplicates(
        (text, expected) in written_tracestate(),
    ) {
        let state = TraceState::parse(&text);
        prop_assert!(state.is_some(), "a valid list was refused: {:?}", text);
        let state = state.unwrap_or_default();
        let members: Vec<(String, String)> =
            state.members().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
        prop_assert_eq!(members, expected);
    }
}
