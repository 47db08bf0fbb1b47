//! One failure as a Sentry event: the exception (its type, the same text
//! the span's `exception` event has, a panic's stack trace), the tags that
//! lead to the trace and the log lines (`trace_id`, `span_id`,
//! `request_id`), and the trace context, through which Sentry links the
//! event to the trace. What the text holds is scrubbed afterwards, with
//! everything else the event carries (`super::scrub`).

use ::sentry::protocol::{
    Context, Event, Exception as SentryException, Level, Mechanism, SpanStatus, TraceContext,
};
use opentelemetry::trace::{SpanId, TraceId};

use super::stacktrace;
use crate::trace::exception::Exception;

/// Where a failure happened, as far as o11y knows it.
#[derive(Debug, Default)]
pub(crate) struct Origin {
    /// The trace and span it happened in, when o11y keeps their state.
    pub(crate) ids: Option<(TraceId, SpanId)>,
    /// The id of the request it happened in.
    pub(crate) request_id: Option<String>,
    /// What the event is named after: the request it happened in, else
    /// the span's name.
    pub(crate) transaction: Option<String>,
    /// The name of the span it happened in: the trace context's `op`.
    pub(crate) span_name: Option<String>,
}

/// The event of `exception`, a panic when `panicked`, at `origin`.
pub(crate) fn build(exception: &Exception<'_>, panicked: bool, origin: &Origin) -> Event<'static> {
    let mut event = Event {
        level: if panicked { Level::Fatal } else { Level::Error },
        logger: Some("o11y".to_owned()),
        transaction: origin.transaction.clone(),
        ..Event::default()
    };
    event.exception = vec![SentryException {
        ty: exception.error_type.to_owned(),
        value: exception.message.map(ToString::to_string),
        stacktrace: exception.stacktrace.and_then(stacktrace::parse),
        mechanism: Some(Mechanism {
            // `panic` is how Sentry's own panic integration names it.
            ty: if panicked { "panic" } else { "generic" }.to_owned(),
            // An error was returned to a caller; a panic was not.
            handled: Some(!panicked),
            ..Mechanism::default()
        }),
        ..SentryException::default()
    }]
    .into();
    if let Some((trace_id, span_id)) = origin.ids {
        event
            .tags
            .insert("trace_id".to_owned(), trace_id.to_string());
        event.tags.insert("span_id".to_owned(), span_id.to_string());
        event.contexts.insert(
            "trace".to_owned(),
            Context::Trace(Box::new(TraceContext {
                trace_id: trace_id.to_bytes().into(),
                span_id: span_id.to_bytes().into(),
                op: origin.span_name.clone(),
                status: Some(SpanStatus::InternalError),
                origin: Some("auto.o11y".to_owned()),
                ..TraceContext::default()
            })),
        );
    }
    if let Some(request_id) = &origin.request_id {
        event
            .tags
            .insert("request_id".to_owned(), request_id.clone());
    }
    event
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_carries_its_text_tags_and_trace_context() {
        let origin = Origin {
            ids: Some((TraceId::from(0xabc), SpanId::from(0xdef))),
            request_id: Some("req-7".to_owned()),
            transaction: Some("POST /charge".to_owned()),
            span_name: Some("shop::charge".to_owned()),
        };
        let event = build(
            &Exception {
                error_type: "shop::Declined",
                message: Some(&"card declined"),
                stacktrace: None,
            },
            false,
            &origin,
        );
        assert_eq!(event.level, Level::Error);
        assert_eq!(event.transaction.as_deref(), Some("POST /charge"));
        let exception = &event.exception.values[0];
        assert_eq!(exception.ty, "shop::Declined");
        assert_eq!(exception.value.as_deref(), Some("card declined"));
        assert!(exception.stacktrace.is_none());
        let mechanism = exception.mechanism.as_ref().expect("a mechanism");
        assert_eq!(
            (mechanism.ty.as_str(), mechanism.handled),
            ("generic", Some(true))
        );
        assert_eq!(event.tags["trace_id"], "00000000000000000000000000000abc");
        assert_eq!(event.tags["span_id"], "0000000000000def");
        assert_eq!(event.tags["request_id"], "req-7");
        let Some(Context::Trace(trace)) = event.contexts.get("trace") else {
            panic!("a trace context: {:?}", event.contexts);
        };
        assert_eq!(trace.trace_id.to_string(), event.tags["trace_id"]);
        assert_eq!(trace.span_id.to_string(), event.tags["span_id"]);
        assert_eq!(trace.op.as_deref(), Some("shop::charge"));
    }

    #[test]
    fn a_panic_outside_any_span_is_unhandled_and_has_no_trace() {
        let event = build(
            &Exception {
                error_type: "panic",
                message: Some(&"stock went negative"),
                stacktrace: Some("   0: shop::reserve\n             at ./src/shop.rs:4:9\n"),
            },
            true,
            &Origin::default(),
        );
        assert_eq!(event.level, Level::Fatal);
        let exception = &event.exception.values[0];
        let mechanism = exception.mechanism.as_ref().expect("a mechanism");
        assert_eq!(
            (mechanism.ty.as_str(), mechanism.handled),
            ("panic", Some(false))
        );
        let frames = &exception.stacktrace.as_ref().expect("its frames").frames;
        assert_eq!(frames[0].function.as_deref(), Some("shop::reserve"));
        assert!(event.tags.is_empty(), "{:?}", event.tags);
        assert!(event.contexts.is_empty(), "{:?}", event.contexts);
    }
}
