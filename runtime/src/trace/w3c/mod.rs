//! W3C Trace Context, as Level 2 of the specification reads
//! (<https://www.w3.org/TR/trace-context-2/>), read and written in one place
//! for every carrier: HTTP requests (the server layer reads it, the client
//! middleware writes it) and task messages (envelopes and header maps).
//! Anything malformed reads as nothing: the receiver then starts a new
//! trace, and never fails because of it.
//!
//! | file | owns |
//! |---|---|
//! | `traceparent` | the `traceparent` header: ids and the `sampled` and `random` trace flags |
//! | `tracestate` | [`TraceState`]: the vendors' list, in o11y's own validated form |
//!
//! o11y keeps its own `tracestate` type because the OpenTelemetry crate's
//! `TraceState` refuses keys the specification allows (a part after `@`
//! longer than 13 characters, a second `@`): a list is validated and
//! passed on by the specification's grammar, and turned into the SDK's
//! type only where an SDK API asks for one.

mod traceparent;
mod tracestate;

#[cfg(test)]
mod hostile_tests;

use opentelemetry::trace::SpanContext;

pub(crate) use traceparent::{format_traceparent, parse_traceparent};
pub(crate) use tracestate::TraceState;

use super::Ids;

/// A span of another process, as the `traceparent` (and `tracestate`) it
/// sent name it: the parent of the span that continues its trace here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RemoteParent {
    /// Its trace id, span id and trace flags.
    pub(crate) ids: Ids,
    /// The trace's `tracestate`; empty when none came or it was invalid.
    pub(crate) trace_state: TraceState,
}

impl RemoteParent {
    /// The remote span `traceparent` names, with `tracestate` (an invalid
    /// one read as empty); `None` when the `traceparent` is malformed.
    /// Trace Context, "Tracestate Header": "If the vendor failed to parse
    /// `traceparent`, it MUST NOT attempt to parse `tracestate`", and the
    /// reverse failure "MUST NOT affect the parsing of `traceparent`".
    pub(crate) fn parse(traceparent: &str, tracestate: Option<&str>) -> Option<RemoteParent> {
        let ids = parse_traceparent(traceparent)?;
        let trace_state = tracestate.and_then(TraceState::parse).unwrap_or_default();
        Some(RemoteParent { ids, trace_state })
    }

    /// The OpenTelemetry form, for the SDK APIs that take one (links, the
    /// public `TraceContext::span_context`): members of the `tracestate`
    /// that the SDK's grammar refuses are left out of it.
    pub(crate) fn to_span_context(&self) -> SpanContext {
        SpanContext::new(
            self.ids.trace_id,
            self.ids.span_id,
            self.ids.trace_flags(),
            true,
            self.trace_state.to_sdk(),
        )
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::{SpanId, TraceId};

    use super::*;

    const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn the_remote_parent_keeps_a_valid_tracestate() {
        let parent = RemoteParent::parse(PARENT, Some("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"))
            .expect("valid");
        assert_eq!(
            parent.ids,
            Ids {
                trace_id: TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
                span_id: SpanId::from_hex("00f067aa0ba902b7").unwrap(),
                sampled: true,
                random: false,
            }
        );
        assert_eq!(
            parent.trace_state.header(),
            "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"
        );
        let context = parent.to_span_context();
        assert!(context.is_remote() && context.is_sampled());
        assert_eq!(
            context.trace_state().header(),
            "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"
        );
    }

    #[test]
    fn a_bad_tracestate_leaves_the_traceparent_standing() {
        let parent = RemoteParent::parse(PARENT, Some("not a state")).expect("valid");
        assert_eq!(parent.trace_state, TraceState::NONE);
        assert_eq!(RemoteParent::parse("garbage", Some("a=b")), None);
    }

    #[test]
    fn the_sdk_form_leaves_out_only_what_the_sdk_refuses() {
        // Valid by Level 2; the SDK refuses a part after `@` longer than
        // 13 characters and a second `@`.
        let long_system = format!("t@{}", "v".repeat(20));
        let text = format!("a=1,{long_system}=2,foo@@bar=3,b=4");
        let parent = RemoteParent::parse(PARENT, Some(&text)).expect("valid");
        assert_eq!(parent.trace_state.header(), text, "o11y keeps every member");
        assert_eq!(
            parent.to_span_context().trace_state().header(),
            "a=1,b=4",
            "the SDK's type gets what it can hold"
        );
    }

    #[test]
    fn the_random_flag_reaches_the_sdk_form() {
        let random = PARENT.replace("-01", "-02");
        let context = RemoteParent::parse(&random, None)
            .expect("valid")
            .to_span_context();
        assert!(!context.is_sampled());
        assert_eq!(context.trace_flags().to_u8(), 0x02);
    }
}
