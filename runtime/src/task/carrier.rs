//! Context propagation over any headers map, for messages that are not an
//! [`Envelope`](super::Envelope): [`inject`] writes the current trace
//! context into the map, [`extract`] reads it back on the worker.

use std::collections::{BTreeMap, HashMap};

use super::context::{TaskContext, TraceContext, now_ms};

/// The header carrying the W3C `traceparent`.
const TRACEPARENT: &str = "traceparent";
/// The header carrying the W3C `tracestate`.
const TRACESTATE: &str = "tracestate";
/// The header carrying W3C baggage.
const BAGGAGE: &str = "baggage";
/// When the message was enqueued, in milliseconds since the Unix epoch.
const ENQUEUED_AT: &str = "o11y-enqueued-at-ms";
/// The task id, when the producer gave one.
const TASK_ID: &str = "o11y-task-id";
/// The messaging system the task was published through (`redis`, ...):
/// the producer span's `messaging.system`.
const MESSAGING_SYSTEM: &str = "o11y-messaging-system";
/// The queue the task was published to: the producer span's
/// `messaging.destination.name`.
const DESTINATION: &str = "o11y-messaging-destination";

/// A map of string headers that a message carries (Kafka/AMQP headers, a
/// Redis hash, a field of your own message type).
///
/// ```
/// use o11y_runtime::task::Carrier;
/// let mut headers = std::collections::HashMap::new();
/// headers.set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into());
/// assert!(headers.get("traceparent").is_some());
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a task carrier: `#[carrier]` marks a headers map (`impl o11y::task::Carrier`)",
    label = "not a headers map",
    note = "`Carrier` is implemented for `HashMap<String, String>` and `BTreeMap<String, String>` (and references to them); implement it for your own message's headers"
)]
pub trait Carrier {
    /// The value of `key`, if present.
    fn get(&self, key: &str) -> Option<&str>;
    /// Sets `key` to `value`, replacing any earlier value.
    fn set(&mut self, key: &str, value: String);
}

impl<S: std::hash::BuildHasher> Carrier for HashMap<String, String, S> {
    fn get(&self, key: &str) -> Option<&str> {
        HashMap::get(self, key).map(String::as_str)
    }
    fn set(&mut self, key: &str, value: String) {
        self.insert(key.to_owned(), value);
    }
}

impl Carrier for BTreeMap<String, String> {
    fn get(&self, key: &str) -> Option<&str> {
        BTreeMap::get(self, key).map(String::as_str)
    }
    fn set(&mut self, key: &str, value: String) {
        self.insert(key.to_owned(), value);
    }
}

impl<C: Carrier + ?Sized> Carrier for &C {
    fn get(&self, key: &str) -> Option<&str> {
        (**self).get(key)
    }
    fn set(&mut self, _key: &str, _value: String) {
        // A shared reference cannot be written to: only reading makes sense.
    }
}

impl<C: Carrier + ?Sized> Carrier for &mut C {
    fn get(&self, key: &str) -> Option<&str> {
        (**self).get(key)
    }
    fn set(&mut self, key: &str, value: String) {
        (**self).set(key, value);
    }
}

/// Writes the current span's trace context (`traceparent`, and
/// `tracestate` when the trace arrived with one) and the enqueue time
/// (`o11y-enqueued-at-ms`, for the worker's queue-wait metric) into
/// `carrier`. Outside any span only the enqueue time is written: the worker
/// then starts a new trace. This publishes nothing (no PRODUCER span), so
/// it writes no messaging system or destination: the worker's consumer span
/// then names the task as its destination.
/// [`Envelope::inject`](super::Envelope::inject) writes an envelope's
/// context, those two included (`o11y-task-id`, `o11y-messaging-system`,
/// `o11y-messaging-destination`).
///
/// ```
/// use std::collections::HashMap;
/// let mut headers: HashMap<String, String> = HashMap::new();
/// o11y_runtime::task::inject(&mut headers);
/// assert!(headers.contains_key("o11y-enqueued-at-ms"));
/// let context = o11y_runtime::task::extract(&headers);
/// assert!(context.enqueued_at_ms.is_some());
/// ```
pub fn inject(carrier: &mut impl Carrier) {
    let context = TaskContext {
        trace: TraceContext::current(),
        enqueued_at_ms: Some(now_ms()),
        ..TaskContext::default()
    };
    inject_context(carrier, &context);
}

/// Writes each part of `context` that is present under its header.
pub(crate) fn inject_context(carrier: &mut impl Carrier, context: &TaskContext) {
    let trace = &context.trace;
    let fields = [
        (TRACEPARENT, trace.traceparent.as_deref()),
        (TRACESTATE, trace.tracestate.as_deref()),
        (BAGGAGE, trace.baggage.as_deref()),
        (TASK_ID, context.task_id.as_deref()),
        (MESSAGING_SYSTEM, context.system.as_deref()),
        (DESTINATION, context.destination.as_deref()),
    ];
    for (key, value) in fields {
        if let Some(value) = value {
            carrier.set(key, value.to_owned());
        }
    }
    if let Some(enqueued_at_ms) = context.enqueued_at_ms {
        carrier.set(ENQUEUED_AT, enqueued_at_ms.to_string());
    }
}

/// Reads what [`inject`] or [`Envelope::inject`](super::Envelope::inject)
/// wrote: the trace context, the task id, the enqueue time, the messaging
/// system and destination. Missing or malformed headers are simply absent:
/// a message without a context runs in a new trace.
///
/// ```
/// use std::collections::BTreeMap;
/// let headers = BTreeMap::from([(
///     "traceparent".to_owned(),
///     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned(),
/// )]);
/// let context = o11y_runtime::task::extract(&headers);
/// assert_eq!(context.trace.span_context().unwrap().span_id().to_string(), "00f067aa0ba902b7");
/// assert_eq!(context.enqueued_at_ms, None);
/// ```
pub fn extract(carrier: &(impl Carrier + ?Sized)) -> TaskContext {
    let text = |key: &str| carrier.get(key).map(str::to_owned);
    TaskContext {
        trace: TraceContext {
            traceparent: text(TRACEPARENT),
            tracestate: text(TRACESTATE),
            baggage: text(BAGGAGE),
        },
        task_id: text(TASK_ID),
        enqueued_at_ms: carrier.get(ENQUEUED_AT).and_then(|v| v.trim().parse().ok()),
        system: text(MESSAGING_SYSTEM),
        destination: text(DESTINATION),
    }
}
