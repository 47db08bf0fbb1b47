//! The ids of a span: as o11y carries them ([`Ids`]: binary ids and the
//! W3C trace flags, what a child inherits and a `traceparent` names), and
//! as other systems read them ([`SpanIds`]: lowercase hex, for an error
//! page or a response header).

use opentelemetry::trace::{SpanId, TraceFlags, TraceId};

/// The W3C `sampled` trace flag (bit 0).
const SAMPLED: u8 = 0x01;
/// The W3C Trace Context Level 2 `random-trace-id` flag (bit 1).
const RANDOM: u8 = 0x02;

/// A span's ids and the W3C trace flags o11y knows: what a child span
/// inherits, what a log line correlates with, what an outgoing
/// `traceparent` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ids {
    pub(crate) trace_id: TraceId,
    pub(crate) span_id: SpanId,
    /// The span is recorded and exported (the `sampled` flag).
    pub(crate) sampled: bool,
    /// At least the right-most 7 bytes of the trace id are random (the
    /// Level 2 `random-trace-id` flag): true for every trace o11y starts,
    /// and as the caller said for a trace continued from another process.
    pub(crate) random: bool,
}

impl Ids {
    /// The trace flags byte: `sampled` and `random` only. Trace Context
    /// Level 2, "Other Flags": the behaviour of other flags is not defined
    /// and vendors MUST set them to zero.
    pub(crate) fn flags_byte(self) -> u8 {
        trace_flags_byte(self.sampled, self.random)
    }

    /// The trace flags, in the SDK's type.
    pub(crate) fn trace_flags(self) -> TraceFlags {
        TraceFlags::new(self.flags_byte())
    }
}

/// The W3C trace flags byte of `sampled` and `random`.
pub(crate) fn trace_flags_byte(sampled: bool, random: bool) -> u8 {
    (if sampled { SAMPLED } else { 0 }) | (if random { RANDOM } else { 0 })
}

/// `(sampled, random)` of a W3C trace flags byte; the other bits are not
/// defined and are not read.
pub(crate) fn read_flags_byte(flags: u8) -> (bool, bool) {
    (flags & SAMPLED != 0, flags & RANDOM != 0)
}

/// The W3C ids of a span, as lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanIds {
    /// 32 hex digits.
    pub trace_id: String,
    /// 16 hex digits.
    pub span_id: String,
    /// Whether the span is sampled (recorded and exported).
    pub sampled: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_carry_sampled_and_random_and_nothing_else() {
        assert_eq!(trace_flags_byte(false, false), 0x00);
        assert_eq!(trace_flags_byte(true, false), 0x01);
        assert_eq!(trace_flags_byte(false, true), 0x02);
        assert_eq!(trace_flags_byte(true, true), 0x03);
        assert_eq!(read_flags_byte(0xff), (true, true));
        assert_eq!(read_flags_byte(0xfc), (false, false));
        assert_eq!(read_flags_byte(0x02), (false, true));
    }
}
