//! W3C trace context as carried by a task: the `traceparent` /
//! `tracestate` / `baggage` strings ([`TraceContext`]), and what a worker
//! knows about an incoming task ([`TaskContext`]: that context, the task's
//! id, enqueue time, and the messaging system and destination it was
//! published to).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::trace::SpanContext;
use serde::{Deserialize, Serialize};

use crate::subscriber::current::{current_ids, current_trace_state};
use crate::trace::w3c::{RemoteParent, format_traceparent};

/// The W3C trace context of a message: `traceparent`, `tracestate` and
/// `baggage`, each absent when there was nothing to carry.
///
/// ```
/// use o11y_runtime::task::TraceContext;
///
/// let context = TraceContext {
///     traceparent: Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into()),
///     ..TraceContext::default()
/// };
/// let parent = context.span_context().unwrap();
/// assert_eq!(parent.trace_id().to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
/// assert!(parent.is_sampled() && parent.is_remote());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceContext {
    /// `00-<trace id>-<span id>-<flags>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
    /// Vendor-specific trace state, forwarded as received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracestate: Option<String>,
    /// W3C baggage (`key=value,key2=value2`), forwarded as received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baggage: Option<String>,
}

impl TraceContext {
    /// The context of the current span: its `traceparent`, and the
    /// `tracestate` its trace arrived with (from an HTTP request or a task
    /// that carried one); empty outside any span or when o11y is not the
    /// active subscriber. o11y's spans hold no baggage, so that is left
    /// empty.
    ///
    /// ```
    /// // Outside any span: nothing to carry, the worker starts a new trace.
    /// assert_eq!(o11y_runtime::task::TraceContext::current().traceparent, None);
    /// ```
    pub fn current() -> TraceContext {
        match current_ids() {
            Some(ids) => TraceContext {
                traceparent: Some(format_traceparent(ids)),
                tracestate: current_trace_state().map(|state| state.header().to_owned()),
                baggage: None,
            },
            None => TraceContext::default(),
        }
    }

    /// The remote parent described by `traceparent` (with `tracestate`);
    /// `None` when it is absent or malformed. A `tracestate` that breaks
    /// the W3C rules is left out (a key repeated is kept once), and so are
    /// the members OpenTelemetry's `TraceState` cannot hold (it refuses
    /// some keys the specification allows, such as `t@` followed by more
    /// than 13 characters): o11y itself passes those on to the worker's
    /// outgoing calls.
    pub fn span_context(&self) -> Option<SpanContext> {
        self.remote_parent().map(|parent| parent.to_span_context())
    }

    /// The remote parent, in o11y's own form (every valid `tracestate`
    /// member kept).
    pub(crate) fn remote_parent(&self) -> Option<RemoteParent> {
        RemoteParent::parse(self.traceparent.as_deref()?, self.tracestate.as_deref())
    }
}

/// What a worker knows about a task it is about to run, from an
/// [`Envelope`](super::Envelope) or from a message's headers
/// ([`extract`](super::extract)). Every part is optional (the
/// [`Default`] knows nothing): a message from an older producer, or from a
/// producer that is not o11y, carries less.
///
/// `system` and `destination` are those of the producer's PRODUCER span;
/// the worker's CONSUMER span repeats them as `messaging.system` and
/// `messaging.destination.name`, as the OpenTelemetry messaging
/// conventions ask.
///
/// ```
/// use o11y_runtime::task::{Envelope, TaskContext};
///
/// let envelope = Envelope::builder("send_email", ()).system("redis").destination("emails").build();
/// let context = envelope.context();
/// assert_eq!(context.system.as_deref(), Some("redis"));
/// assert_eq!(context.destination.as_deref(), Some("emails"));
/// assert_eq!(TaskContext::default().system, None);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskContext {
    /// The producer's trace context.
    pub trace: TraceContext,
    /// The task's id, when the message carries one.
    pub task_id: Option<String>,
    /// When the task was enqueued, in milliseconds since the Unix epoch.
    pub enqueued_at_ms: Option<u64>,
    /// The messaging system the task was published through (`redis`,
    /// `kafka`, `o11y` by default), when the message says. Unknown, the
    /// consumer span has no `messaging.system`: o11y does not guess it.
    pub system: Option<String>,
    /// The queue the task was published to, when the message says.
    /// Unknown, the consumer span's `messaging.destination.name` is the
    /// task's name (the producer's default destination).
    pub destination: Option<String>,
}

impl TaskContext {
    /// How long the task waited in the queue, up to `now`; `None` without
    /// an enqueue time (or with one in the future: clocks differ, or one
    /// past what the system clock can hold).
    ///
    /// ```
    /// use std::time::{Duration, SystemTime, UNIX_EPOCH};
    /// let context = o11y_runtime::task::TaskContext { enqueued_at_ms: Some(1_000), ..Default::default() };
    /// let now = UNIX_EPOCH + Duration::from_millis(3_500);
    /// assert_eq!(context.queue_wait(now), Some(Duration::from_millis(2_500)));
    /// ```
    pub fn queue_wait(&self, now: SystemTime) -> Option<Duration> {
        // The time comes from the message: `+` would panic on a platform
        // whose clock cannot hold it (Windows' cannot hold `u64::MAX` ms).
        let enqueued = UNIX_EPOCH.checked_add(Duration::from_millis(self.enqueued_at_ms?))?;
        now.duration_since(enqueued).ok()
    }
}

/// Milliseconds since the Unix epoch, now.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracestate_is_kept_on_the_remote_parent() {
        let context = TraceContext {
            traceparent: Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00".into()),
            tracestate: Some("vendor=abc".into()),
            baggage: None,
        };
        let parent = context.span_context().unwrap();
        assert!(!parent.is_sampled());
        assert_eq!(parent.trace_state().get("vendor"), Some("abc"));
    }
}
