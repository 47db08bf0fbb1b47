//! The `traceparent` header: `version-traceid-parentid-flags`, written as
//! version 00 with the two flags Level 2 defines (`sampled`, `random`), and
//! read by the specification's rules for version 00 and later versions.

use opentelemetry::trace::{SpanId, TraceId};

use crate::trace::ids::{Ids, read_flags_byte};

/// The length of a version 00 `traceparent`: "If the size of the header is
/// shorter than 55 characters, the vendor should not parse the header".
const VERSION_00_LEN: usize = 55;

/// `traceparent` (version 00) naming `ids.span_id` in `ids.trace_id`, with
/// its `sampled` and `random` flags. Trace Context Level 2, "Random Trace
/// ID Flag": when continuing a trace, the flag "MUST also be set (unset) in
/// all outgoing `traceparent` headers which use the same `trace-id`", so it
/// is carried on [`Ids`] from the trace's start (or its remote parent) to
/// every span of the trace.
pub(crate) fn format_traceparent(ids: Ids) -> String {
    let header = format!(
        "00-{}-{}-{:02x}",
        ids.trace_id,
        ids.span_id,
        ids.flags_byte()
    );
    debug_assert_eq!(header.len(), VERSION_00_LEN);
    header
}

/// The ids and flags of a `traceparent`, by the W3C rules:
/// `version-traceid-parentid-flags`, lowercase hex fields of exactly 2, 32,
/// 16 and 2 digits, version `ff` invalid, version `00` ending after the
/// flags while a later version may go on after a `-` (and is read as 00),
/// all-zero ids invalid. Surrounding whitespace is ignored. Of the flags,
/// `sampled` and `random` are read; "Vendors will set all unparsed /
/// unknown trace-flags to 0 on outgoing requests" (Processing Model), so
/// the others are dropped here.
pub(crate) fn parse_traceparent(value: &str) -> Option<Ids> {
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
    let (sampled, random) = read_flags_byte(u8::from_str_radix(flags, 16).ok()?);
    Some(Ids {
        trace_id,
        span_id,
        sampled,
        random,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    fn ids(sampled: bool, random: bool) -> Ids {
        Ids {
            trace_id: TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
            span_id: SpanId::from_hex("00f067aa0ba902b7").unwrap(),
            sampled,
            random,
        }
    }

    #[test]
    fn traceparent_round_trips_at_every_flag() {
        assert_eq!(format_traceparent(ids(true, false)), PARENT);
        for (sampled, random, flags) in [
            (false, false, "00"),
            (true, false, "01"),
            (false, true, "02"),
            (true, true, "03"),
        ] {
            let text = format_traceparent(ids(sampled, random));
            assert!(text.ends_with(&format!("-{flags}")), "{text}");
            assert_eq!(parse_traceparent(&text), Some(ids(sampled, random)));
        }
        assert_eq!(
            parse_traceparent(&format!(" {PARENT}\n")),
            Some(ids(true, false))
        );
    }

    #[test]
    fn only_the_flags_level_2_defines_are_read() {
        // `random` is bit 1; bits 2-7 are reserved, read as 0 and never sent.
        assert_eq!(
            parse_traceparent(&PARENT.replace("-01", "-03")),
            Some(ids(true, true))
        );
        let reserved = parse_traceparent(&PARENT.replace("-01", "-fc")).expect("valid");
        assert_eq!(reserved, ids(false, false));
        assert!(format_traceparent(reserved).ends_with("-00"));
        let all = parse_traceparent(&PARENT.replace("-01", "-ff")).expect("valid");
        assert!(format_traceparent(all).ends_with("-03"));
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
        assert_eq!(
            parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03-future"),
            Some(ids(true, true))
        );
    }
}
