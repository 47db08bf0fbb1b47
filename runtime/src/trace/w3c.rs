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

/// The remote span a `traceparent` (with its `tracestate`, an invalid one
/// read as empty) names; `None` when the `traceparent` is malformed.
pub(crate) fn remote_span_context(
    traceparent: &str,
    tracestate: Option<&str>,
) -> Option<SpanContext> {
    let (trace_id, span_id, sampled) = parse_traceparent(traceparent)?;
    let state = tracestate
        .and_then(|state| state.parse::<TraceState>().ok())
        .unwrap_or_default();
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
}
