//! The W3C Trace Context `traceparent` header, read and written in one
//! place for every carrier: HTTP requests (the server layer reads it, the
//! client middleware writes it) and task messages (envelopes and header
//! maps). Anything malformed reads as nothing: the receiver then starts a
//! new trace, and never fails because of it.

use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};

/// `traceparent` (version 00) naming `span_id` in `trace_id`.
pub(crate) fn format_traceparent(trace_id: TraceId, span_id: SpanId, sampled: bool) -> String {
    format!("00-{trace_id}-{span_id}-{:02x}", u8::from(sampled))
}

/// `(trace id, span id, sampled)` of a `traceparent`, by the W3C rules:
/// `version-traceid-parentid-flags`, lowercase hex fields of exactly 2, 32,
/// 16 and 2 digits, version `ff` invalid, version `00` ending after the
/// flags while a later version may go on after a `-` (and is read as 00),
/// all-zero ids invalid. Surrounding whitespace is ignored.
pub(crate) fn parse_traceparent(value: &str) -> Option<(TraceId, SpanId, bool)> {
    let mut fields = value.trim().split('-');
    let version = fields.next()?;
    let (trace_id, span_id, flags) = (fields.next()?, fields.next()?, fields.next()?);
    let lower_hex = |s: &str, len: usize| {
        s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    let well_formed = lower_hex(version, 2)
        && lower_hex(trace_id, 32)
        && lower_hex(span_id, 16)
        && lower_hex(flags, 2);
    if !well_formed || version == "ff" || (version == "00" && fields.next().is_some()) {
        return None;
    }
    let trace_id = TraceId::from_hex(trace_id).ok()?;
    let span_id = SpanId::from_hex(span_id).ok()?;
    if trace_id == TraceId::INVALID || span_id == SpanId::INVALID {
        return None;
    }
    let flags = u8::from_str_radix(flags, 16).ok()?;
    Some((trace_id, span_id, flags & 1 == 1))
}

/// The most list members a `tracestate` may have.
const MAX_TRACESTATE_MEMBERS: usize = 32;

/// A `tracestate` (several headers joined with commas) by the W3C rules,
/// or `None` when it breaks one, since the specification has a receiver
/// discard an invalid list whole rather than pass part of it on:
/// - members are `key=value`, separated by commas with optional spaces and
///   tabs around them; empty members are skipped and not counted;
/// - at most 32 members, and no key twice;
/// - a key is 1–256 of `a-z 0-9 _ - * /` starting with a letter or digit,
///   or `tenant@system`: a tenant of 1–241 of these starting with a letter
///   or digit, a system of 1–14 starting with a letter;
/// - a value is 1–256 printable ASCII characters other than `,` and `=`,
///   not ending in a space.
pub(crate) fn parse_tracestate(text: &str) -> Option<TraceState> {
    let mut members: Vec<(&str, &str)> = Vec::new();
    for member in text.split(',') {
        let member = member.trim_matches([' ', '\t']);
        if member.is_empty() {
            continue;
        }
        let (key, value) = member.split_once('=')?;
        let valid = tracestate_key(key) && tracestate_value(value);
        if !valid
            || members.len() == MAX_TRACESTATE_MEMBERS
            || members.iter().any(|(k, _)| *k == key)
        {
            return None;
        }
        members.push((key, value));
    }
    if members.is_empty() {
        return Some(TraceState::NONE);
    }
    // OpenTelemetry checks keys again, a little more strictly (it refuses a
    // system of 14 characters): such a list reads as empty.
    TraceState::from_key_value(members).ok()
}

fn tracestate_key(key: &str) -> bool {
    let part = |text: &str, max: usize, first_digit: bool| {
        let bytes = text.as_bytes();
        bytes.first().is_some_and(|first| {
            first.is_ascii_lowercase() || (first_digit && first.is_ascii_digit())
        }) && bytes.len() <= max
            && bytes.iter().all(|b| {
                b.is_ascii_lowercase()
                    || b.is_ascii_digit()
                    || matches!(b, b'_' | b'-' | b'*' | b'/')
            })
    };
    match key.split_once('@') {
        None => part(key, 256, true),
        Some((tenant, system)) => part(tenant, 241, true) && part(system, 14, false),
    }
}

fn tracestate_value(value: &str) -> bool {
    let bytes = value.as_bytes();
    (1..=256).contains(&bytes.len())
        && bytes.last() != Some(&b' ')
        && bytes
            .iter()
            .all(|b| matches!(b, 0x20..=0x7e) && !matches!(b, b',' | b'='))
}

/// The remote span a `traceparent` (with its `tracestate`, an invalid one
/// read as empty) names; `None` when the `traceparent` is malformed.
pub(crate) fn remote_span_context(
    traceparent: &str,
    tracestate: Option<&str>,
) -> Option<SpanContext> {
    let (trace_id, span_id, sampled) = parse_traceparent(traceparent)?;
    let state = tracestate.and_then(parse_tracestate).unwrap_or_default();
    let flags = if sampled {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::default()
    };
    Some(SpanContext::new(trace_id, span_id, flags, true, state))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn traceparent_round_trips() {
        let trace_id = TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap();
        let span_id = SpanId::from_hex("00f067aa0ba902b7").unwrap();
        let text = format_traceparent(trace_id, span_id, true);
        assert_eq!(text, PARENT);
        assert_eq!(parse_traceparent(&text), Some((trace_id, span_id, true)));
        assert_eq!(
            parse_traceparent(&format_traceparent(trace_id, span_id, false)),
            Some((trace_id, span_id, false))
        );
        assert_eq!(
            parse_traceparent(&format!(" {PARENT}\n")),
            Some((trace_id, span_id, true))
        );
        // Flags other than "sampled" are not ours to read.
        assert_eq!(
            parse_traceparent(&PARENT.replace("-01", "-03")),
            Some((trace_id, span_id, true))
        );
    }

    #[test]
    fn malformed_traceparents_read_as_nothing() {
        for bad in [
            "",
            "garbage",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e47-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473x-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
        ] {
            assert_eq!(parse_traceparent(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn later_versions_may_add_fields() {
        assert!(
            parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future")
                .is_some()
        );
    }

    #[test]
    fn the_remote_span_keeps_a_valid_tracestate() {
        let parent = remote_span_context(PARENT, Some("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"))
            .expect("valid");
        assert!(parent.is_remote());
        assert!(parent.is_sampled());
        assert_eq!(
            parent.trace_state().header(),
            "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"
        );
        let parent = remote_span_context(PARENT, Some("not a state")).expect("valid");
        assert_eq!(parent.trace_state().header(), "");
        assert_eq!(remote_span_context("garbage", Some("a=b")), None);
    }

    /// The list as it would be passed on; `None` when discarded.
    fn state(text: &str) -> Option<String> {
        parse_tracestate(text).map(|state| state.header())
    }

    #[test]
    fn a_valid_tracestate_is_kept_whole() {
        assert_eq!(state(" foo=1 ,\tbar=2\t").as_deref(), Some("foo=1,bar=2"));
        assert_eq!(state("foo=1,,bar=2,").as_deref(), Some("foo=1,bar=2"));
        assert_eq!(state("").as_deref(), Some(""));
        assert_eq!(
            state("0vendor=x,t@s=y z").as_deref(),
            Some("0vendor=x,t@s=y z")
        );
        let tenant = format!("{}@{}=1", "t".repeat(241), "v".repeat(13));
        assert_eq!(state(&tenant), Some(tenant.clone()));
        // 32 members, empty ones in between not counted.
        let members: Vec<String> = (1..=32).map(|i| format!("k{i}=v{i}")).collect();
        let with_gaps = members.join(",,");
        assert_eq!(state(&with_gaps), Some(members.join(",")));
    }

    #[test]
    fn an_invalid_tracestate_is_discarded_whole() {
        let thirty_three = (1..=33)
            .map(|i| format!("k{i}=v{i}"))
            .collect::<Vec<_>>()
            .join(",");
        for bad in [
            "foo=1,foo=2",
            "foo=,bar=3",
            "foo@=1,bar=2",
            "foo==bar",
            "Foo=1",
            "foo=1,bar",
            "foo=a,b",
            "foo=1,bar=a\u{7f}",
            "@system=1",
            "tenant@1system=1",
            &format!("{}@v=1", "t".repeat(242)),
            &format!("t@{}=1", "v".repeat(15)),
            &format!("{}=1", "k".repeat(257)),
            &format!("k={}", "v".repeat(257)),
            &thirty_three,
        ] {
            assert_eq!(state(bad), None, "{bad:?}");
        }
    }
}
