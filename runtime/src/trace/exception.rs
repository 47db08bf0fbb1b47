//! The OpenTelemetry `exception` span event (semantic conventions): what a
//! span records of an error returned or a panic that went through it, with
//! `exception.type`, `exception.message` and, for a panic whose backtrace
//! was captured, `exception.stacktrace`. Every integration records it
//! through here (by way of `lifecycle`), so the event has one shape.
//!
//! The message stays an event attribute, never the span's status
//! description, so that what scrubs event attributes on the way out scrubs
//! it too.

use std::fmt;
use std::time::SystemTime;

use opentelemetry::KeyValue;
use opentelemetry::trace::Event;

use super::Recording;

/// The span event's name, as the semantic conventions have it.
pub(crate) const EVENT_NAME: &str = "exception";

/// The target of the log line the panic hook writes. Not a span event as
/// well: the hook records the panic's `exception` event on the span itself.
pub(crate) const PANIC_TARGET: &str = "o11y::panic";

/// What one `exception` event says.
#[derive(Clone, Copy)]
pub(crate) struct Exception<'a> {
    /// `exception.type`: the error's type name, or `panic`.
    pub(crate) error_type: &'a str,
    /// `exception.message`: the error's `Display`, or the panic's message.
    /// Formatted only when a recorded span takes the event.
    pub(crate) message: Option<&'a dyn fmt::Display>,
    /// `exception.stacktrace`: a panic's backtrace, when one was captured.
    pub(crate) stacktrace: Option<&'a str>,
}

impl fmt::Debug for Exception<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Exception")
            .field("error_type", &self.error_type)
            .field("message", &self.message.map(ToString::to_string))
            .field("stacktrace", &self.stacktrace.is_some())
            .finish()
    }
}

impl Recording {
    /// Adds the `exception` event of `exception` (within the span's event
    /// limit, like any event). The span's status is the caller's business.
    pub(crate) fn add_exception(&mut self, exception: &Exception<'_>) {
        let mut attributes = Vec::with_capacity(3);
        attributes.push(KeyValue::new(
            "exception.type",
            exception.error_type.to_owned(),
        ));
        if let Some(message) = exception.message {
            attributes.push(KeyValue::new("exception.message", message.to_string()));
        }
        if let Some(stacktrace) = exception.stacktrace {
            attributes.push(KeyValue::new("exception.stacktrace", stacktrace.to_owned()));
        }
        self.add_event(Event::new(EVENT_NAME, SystemTime::now(), attributes, 0));
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::{SpanId, TraceId};

    use super::*;

    static CALLSITE: tracing_core::callsite::DefaultCallsite =
        tracing_core::callsite::DefaultCallsite::new(&META);
    static META: tracing_core::Metadata<'static> = tracing::metadata! {
        name: "charge",
        target: "o11y::trace::exception::tests",
        level: tracing::Level::INFO,
        fields: &[],
        callsite: &CALLSITE,
        kind: tracing_core::metadata::Kind::SPAN,
    };

    fn attributes(event: &Event) -> Vec<(String, String)> {
        event
            .attributes
            .iter()
            .map(|kv| (kv.key.to_string(), kv.value.to_string()))
            .collect()
    }

    #[test]
    fn the_event_follows_the_semantic_conventions() {
        let now = SystemTime::now();
        let mut span = Recording::new_for_test(TraceId::from(1), SpanId::from(2), &META, now, now);
        span.add_exception(&Exception {
            error_type: "shop::PaymentDeclined",
            message: Some(&"card declined"),
            stacktrace: None,
        });
        span.add_exception(&Exception {
            error_type: "panic",
            message: None,
            stacktrace: Some("0: shop::charge"),
        });
        assert_eq!(span.events.len(), 2);
        assert!(span.events.iter().all(|event| event.name == EVENT_NAME));
        assert_eq!(
            attributes(&span.events[0]),
            [
                ("exception.type".into(), "shop::PaymentDeclined".into()),
                ("exception.message".into(), "card declined".into()),
            ]
        );
        assert_eq!(
            attributes(&span.events[1]),
            [
                ("exception.type".into(), "panic".into()),
                ("exception.stacktrace".into(), "0: shop::charge".into()),
            ]
        );
        assert_eq!(
            span.status,
            opentelemetry::trace::Status::Unset,
            "the status is the caller's"
        );
    }
}
