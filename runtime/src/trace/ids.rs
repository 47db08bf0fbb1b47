//! The ids of a span as other systems read them (an error page, a response
//! header): lowercase hex.

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
