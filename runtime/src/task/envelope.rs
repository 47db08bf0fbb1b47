//! [`Envelope`]: a task's payload with its trace context, id, name and
//! enqueue time, serialisable to JSON (or any serde format) for any queue.
//! Creating one is publishing the task: a PRODUCER span and a count.

use serde::{Deserialize, Serialize};

use super::carrier::{Carrier, inject_context};
use super::context::{TaskContext, TraceContext, now_ms};
use super::metrics::PUBLISHED;
use crate::lifecycle::{Operation, Parent};
use crate::subscriber::current::{current_ids, current_trace_state, keep_trace_state};
use crate::trace::w3c::{TraceState, format_traceparent};

/// A task on its way to a worker: the payload plus what the worker needs
/// to continue the producer's trace and measure the queue wait.
///
/// Created inside a span (a request's), it opens a PRODUCER span `publish
/// <task name>` (attributes `messaging.system`, `messaging.destination.name`,
/// `messaging.operation.name = "publish"`, `messaging.operation.type =
/// "send"`, `messaging.message.id`) and carries
/// that span's `traceparent` (and the `tracestate` its trace arrived with),
/// so the worker's CONSUMER span is its child. The envelope keeps the
/// messaging system and destination too, so that the CONSUMER span
/// repeats them.
/// Created outside any span, it carries no trace context and the worker
/// starts a new trace. Each creation counts `task_published_total{task}`
/// (while o11y is on).
///
/// ```
/// use o11y_runtime::task::Envelope;
///
/// let envelope = Envelope::builder("send_email", "alice@example.com".to_owned())
///     .id("email-42")
///     .system("redis")
///     .destination("emails")
///     .build();
/// let json = serde_json::to_string(&envelope).unwrap();
/// let back: Envelope<String> = serde_json::from_str(&json).unwrap();
/// assert_eq!(back, envelope);
/// assert_eq!(back.task_id, "email-42");
/// assert_eq!(back.system.as_deref(), Some("redis"));
/// assert_eq!(back.destination.as_deref(), Some("emails"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope<T> {
    /// The task's id: given to the builder, or 32 random hex digits.
    pub task_id: String,
    /// The task's name (`process_order`): the `task` label of its metrics.
    pub task_name: String,
    /// When the envelope was created, in milliseconds since the Unix epoch.
    pub enqueued_at_ms: u64,
    /// The producer's trace context.
    #[serde(default)]
    pub trace: TraceContext,
    /// The messaging system it was published through: the producer span's
    /// `messaging.system` (`o11y` unless the builder was given one). `None`
    /// in an envelope from a version of o11y that did not carry it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// The queue it was published to: the producer span's
    /// `messaging.destination.name` (the task name unless the builder was
    /// given one). `None` in an envelope from a version of o11y that did not
    /// carry it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    /// The task's arguments.
    pub payload: T,
}

impl<T> Envelope<T> {
    /// Publishes a task named `task_name` with `payload` and a generated
    /// id; see [`Envelope::builder`] for the other options.
    ///
    /// ```
    /// let envelope = o11y_runtime::task::Envelope::new("resize", (640, 480));
    /// assert_eq!(envelope.task_id.len(), 32);
    /// assert_eq!(envelope.trace.traceparent, None); // no current span
    /// ```
    pub fn new(task_name: impl Into<String>, payload: T) -> Self {
        Self::builder(task_name, payload).build()
    }

    /// Starts an envelope with a given id, messaging system or destination.
    pub fn builder(task_name: impl Into<String>, payload: T) -> EnvelopeBuilder<T> {
        EnvelopeBuilder {
            task_name: task_name.into(),
            payload,
            task_id: None,
            system: None,
            destination: None,
            baggage: None,
        }
    }

    /// What a worker needs from the envelope: trace context, id, enqueue
    /// time, messaging system and destination (what `#[task_traced]` reads
    /// before running the task).
    ///
    /// ```
    /// let envelope = o11y_runtime::task::Envelope::new("resize", ());
    /// let context = envelope.context();
    /// assert_eq!(context.task_id.as_deref(), Some(envelope.task_id.as_str()));
    /// assert_eq!(context.enqueued_at_ms, Some(envelope.enqueued_at_ms));
    /// // The producer's defaults: system `o11y`, the task name as the queue.
    /// assert_eq!(context.system.as_deref(), Some("o11y"));
    /// assert_eq!(context.destination.as_deref(), Some("resize"));
    /// ```
    pub fn context(&self) -> TaskContext {
        TaskContext {
            trace: self.trace.clone(),
            task_id: Some(self.task_id.clone()),
            enqueued_at_ms: Some(self.enqueued_at_ms),
            system: self.system.clone(),
            destination: self.destination.clone(),
        }
    }

    /// Writes the envelope's context (trace context, id, enqueue time,
    /// messaging system and destination) into a headers map, for a broker
    /// that carries headers beside the body.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// let envelope = o11y_runtime::task::Envelope::new("resize", ());
    /// let mut headers: HashMap<String, String> = HashMap::new();
    /// envelope.inject(&mut headers);
    /// assert_eq!(o11y_runtime::task::extract(&headers), envelope.context());
    /// ```
    pub fn inject(&self, carrier: &mut impl Carrier) {
        inject_context(carrier, &self.context());
    }
}

/// Options of an [`Envelope`] being created; [`EnvelopeBuilder::build`]
/// publishes it.
#[derive(Debug)]
#[must_use = "an envelope is published by `build()`"]
pub struct EnvelopeBuilder<T> {
    task_name: String,
    payload: T,
    task_id: Option<String>,
    system: Option<String>,
    destination: Option<String>,
    baggage: Option<String>,
}

impl<T> EnvelopeBuilder<T> {
    /// The task's id (default: 32 random hex digits).
    pub fn id(mut self, task_id: impl Into<String>) -> Self {
        self.task_id = Some(task_id.into());
        self
    }

    /// `messaging.system` of the producer span (`redis`, `kafka`, ...;
    /// default `o11y`).
    pub fn system(mut self, system: impl Into<String>) -> Self {
        self.system = Some(system.into());
        self
    }

    /// `messaging.destination.name`: the queue (default: the task name).
    pub fn destination(mut self, destination: impl Into<String>) -> Self {
        self.destination = Some(destination.into());
        self
    }

    /// W3C baggage to carry to the worker (`key=value,key2=value2`).
    pub fn baggage(mut self, baggage: impl Into<String>) -> Self {
        self.baggage = Some(baggage.into());
        self
    }

    /// Publishes the envelope: the producer span (inside a span), the
    /// count, the captured context, and the system and destination the
    /// producer span names.
    ///
    /// ```
    /// let envelope = o11y_runtime::task::Envelope::builder("resize", ()).baggage("tenant=acme").build();
    /// assert_eq!(envelope.trace.baggage.as_deref(), Some("tenant=acme"));
    /// assert_eq!(envelope.system.as_deref(), Some("o11y"));
    /// assert_eq!(envelope.destination.as_deref(), Some("resize"));
    /// ```
    pub fn build(self) -> Envelope<T> {
        let task_id = self
            .task_id
            .unwrap_or_else(|| format!("{:032x}", fastrand::u128(..)));
        let system = self.system.unwrap_or_else(|| "o11y".to_owned());
        let destination = self.destination.unwrap_or_else(|| self.task_name.clone());
        // o11y off (not initialised, or its guard dropped): no span, no count.
        let flags = crate::observe::flags();
        let on = flags != 0;
        // The state of the trace the producer span belongs to (as it arrived
        // from another process), handed on with its traceparent.
        let trace_state = on.then(current_trace_state).flatten();
        let traceparent = on
            .then(|| {
                producer_span(
                    &self.task_name,
                    &task_id,
                    &system,
                    &destination,
                    trace_state.as_ref(),
                )
            })
            .flatten();
        let tracestate = traceparent
            .as_ref()
            .and(trace_state.as_ref())
            .map(|state| state.header().to_owned());
        if flags & crate::observe::METRICS != 0 {
            PUBLISHED.labels([self.task_name.as_str()]).inc();
        }
        Envelope {
            task_id,
            task_name: self.task_name,
            enqueued_at_ms: now_ms(),
            trace: TraceContext {
                traceparent,
                tracestate,
                baggage: self.baggage,
            },
            system: Some(system),
            destination: Some(destination),
            payload: self.payload,
        }
    }
}

/// Opens and closes the PRODUCER span inside the current span (exported
/// with the trace's `trace_state`, if any) and returns the `traceparent`
/// the worker continues from: the producer span's, or the current span's if
/// the producer span is filtered out; `None` outside any span.
fn producer_span(
    task_name: &str,
    task_id: &str,
    system: &str,
    destination: &str,
    trace_state: Option<&TraceState>,
) -> Option<String> {
    let current = current_ids()?;
    let make = || {
        tracing::info_span!(
            target: "o11y::task",
            "publish",
            otel.name = %format_args!("publish {task_name}"),
            otel.kind = "producer",
            messaging.system = system,
            messaging.destination.name = destination,
            messaging.operation.name = "publish",
            messaging.operation.type = "send",
            messaging.message.id = task_id,
        )
    };
    let (mut operation, decision) = Operation::start_deciding(true, Parent::Current, true, make);
    let span = operation.span_or_none();
    let ids = match decision {
        Some(decision) if !span.is_disabled() => decision.ids(),
        _ => current,
    };
    if let (Some(trace_state), false) = (trace_state, span.is_disabled()) {
        keep_trace_state(span, trace_state.clone());
    }
    let stopped = operation.stop();
    operation.close(stopped);
    Some(format_traceparent(ids))
}
