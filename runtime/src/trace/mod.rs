//! The span pipeline: a `tracing-subscriber` layer that gives every span
//! (o11y's own, a user's `#[tracing::instrument]`, tower's, sqlx's) W3C trace
//! and span ids, takes the head-sampling decision once at creation, and for
//! sampled spans only records attributes and hands the finished span to the
//! export queue. With tail rules on, a span the head sampler left out is
//! recorded too and held with its local trace until the tail rules decide
//! (`tail`).
//!
//! A sampled-out span costs id generation and one small extension; it never
//! visits its fields, reads the clock or allocates attribute storage. This is
//! what makes it cheaper than `tracing-opentelemetry`, which builds an SDK
//! span builder for every span whatever the sampler says.
//!
//! Special fields understood on any span, as `tracing-opentelemetry` does:
//! `otel.name`, `otel.kind` (`server`, `client`, `producer`, `consumer`,
//! `internal`), `otel.status_code` (`ok`, `error`; `ok` is final),
//! `otel.status_description` (or its older name `otel.status_message`).

mod attributes;
pub(crate) mod decide;
pub(crate) mod exception;
pub(crate) mod finished;
mod ids;
mod recording;
mod sampler;
mod span_data;
pub(crate) mod tail;
pub(crate) mod w3c;

use std::time::SystemTime;

use opentelemetry::KeyValue;
use opentelemetry::trace::{Event, Link, SpanContext, SpanId, Status, TraceId};
use tracing_core::span::{Attributes, Record};
use tracing_core::{Event as TracingEvent, Level};

use crate::export_thread::is_export_thread;
use crate::redact::Redactor;
pub(crate) use ids::Ids;
pub use ids::SpanIds;
#[cfg(test)]
pub(crate) use recording::Dropped;
pub(crate) use recording::Recording;
pub(crate) use sampler::{Sampler, new_span_id, new_trace_id};
use w3c::TraceState;

/// What the span stage keeps for every live span: its ids, the sampling
/// decision, and the recording of a sampled one. The subscriber keeps it
/// beside the other stages' per-span state, which this stage never sees.
#[derive(Debug)]
pub(crate) struct SpanState {
    pub(crate) trace_id: TraceId,
    pub(crate) span_id: SpanId,
    pub(crate) sampled: bool,
    /// The trace's W3C `random` flag (see [`Ids::random`]).
    pub(crate) random: bool,
    /// The span is where a unit of work entered this process (an HTTP
    /// server's request span): where per-request context, such as the
    /// user, is put for every line and span inside it.
    pub(crate) entry: bool,
    /// Present only when the span is recorded (head-sampled, or held for
    /// the tail rules) and spans are exported; taken
    /// when the span closes.
    pub(crate) recording: Option<Box<Recording>>,
    /// The W3C `tracestate` of a trace continued from another process, on
    /// the span that continued it (the HTTP server span, a task's CONSUMER
    /// span), recorded or not, so that outbound calls and envelopes made
    /// inside it send the trace's state on. `None` on most spans.
    pub(crate) carried_trace_state: Option<TraceState>,
}

impl SpanState {
    /// The state of no span yet, filled by [`SpanLayer::open_into`].
    pub(crate) fn empty() -> Self {
        SpanState {
            trace_id: TraceId::INVALID,
            span_id: SpanId::INVALID,
            sampled: false,
            random: false,
            entry: false,
            recording: None,
            carried_trace_state: None,
        }
    }

    /// Empty again, for the next span of a reused slot.
    pub(crate) fn reset(&mut self) {
        self.trace_id = TraceId::INVALID;
        self.span_id = SpanId::INVALID;
        self.sampled = false;
        self.random = false;
        self.entry = false;
        self.recording = None;
        self.carried_trace_state = None;
    }

    /// The context of the span, for links to it.
    pub(crate) fn span_context(&self) -> SpanContext {
        let ids = self.as_parent();
        SpanContext::new(
            ids.trace_id,
            ids.span_id,
            ids.trace_flags(),
            false,
            opentelemetry::trace::TraceState::NONE,
        )
    }

    /// The span's ids and trace flags, as a parent of another.
    pub(crate) fn as_parent(&self) -> Ids {
        Ids {
            trace_id: self.trace_id,
            span_id: self.span_id,
            sampled: self.sampled,
            random: self.random,
        }
    }
}

/// Where the span stage sends recorded spans when they close: the export
/// queue, which lives in a layer above and registers itself here. Boxes
/// travel both ways, so that a recording thread reuses the boxes the export
/// thread has emptied instead of allocating one another thread frees.
pub(crate) trait SpanSink: Send + Sync + std::fmt::Debug {
    /// An emptied box to fill, if one came back.
    fn recycled(&self) -> Option<Box<Recording>>;
    /// Queues a finished recording; a full queue drops and counts it.
    fn push(&self, recording: Box<Recording>);
    /// Takes back a recording that will not be exported (a trace the tail
    /// rules did not keep), for its box to be reused.
    fn recycle(&self, recording: Box<Recording>) {
        drop(recording);
    }
    /// Whether spans the head sampler left out are recorded too, for the
    /// tail rules to decide on (see [`tail`]).
    fn holds_unsampled(&self) -> bool {
        false
    }
}

/// The span stage; see the module documentation.
#[derive(Debug)]
pub(crate) struct SpanLayer {
    pub(crate) sampler: Sampler,
    /// `None` when spans are not exported: nothing is recorded then.
    pub(crate) sink: Option<std::sync::Arc<dyn SpanSink>>,
    /// The sink holds spans the head sampler left out for the tail rules:
    /// every span is recorded.
    pub(crate) tail: bool,
    /// Whose key rule recorded fields go through (the value patterns run
    /// on the export thread).
    redactor: &'static Redactor,
}

impl SpanLayer {
    pub(crate) fn new(
        sampler: Sampler,
        sink: Option<std::sync::Arc<dyn SpanSink>>,
        redactor: &'static Redactor,
    ) -> Self {
        let tail = sink.as_ref().is_some_and(|sink| sink.holds_unsampled());
        SpanLayer {
            sampler,
            sink,
            tail,
            redactor,
        }
    }

    /// Makes `state`, [empty](SpanState::empty) or [reset](SpanState::reset),
    /// the state of a new span whose parent's state is `parent`: in place,
    /// as `init()`'s subscriber keeps it in a reused span slot (moved in
    /// and out of functions, it was copied three times per span).
    pub(crate) fn open_into(
        &self,
        attrs: &Attributes<'_>,
        parent: Option<&SpanState>,
        state: &mut SpanState,
    ) {
        debug_assert!(state.recording.is_none(), "a span state is opened empty");
        // o11y's own instrumentation decided (and read the parent) before
        // creating the span; for any other span, decide here.
        let decision =
            decide::take_preset().unwrap_or_else(|| self.decide(parent.map(SpanState::as_parent)));
        let decide::Decision {
            trace_id,
            span_id,
            parent_span_id,
            sampled,
            recorded,
            random,
            start,
            remote_parent,
        } = decision;
        let sink = self.sink.as_deref().filter(|_| recorded);
        let recording = sink.map(|sink| {
            let fresh = Recording {
                parent_is_remote: remote_parent,
                random,
                ..Recording::new(
                    trace_id,
                    span_id,
                    parent_span_id,
                    attrs.metadata(),
                    start.unwrap_or_else(SystemTime::now),
                )
            };
            let mut recording = match sink.recycled() {
                Some(mut recycled) => {
                    // Emptied on the export thread; its attribute storage is kept.
                    let attributes = std::mem::take(&mut recycled.attributes);
                    *recycled = Recording {
                        attributes,
                        ..fresh
                    };
                    recycled
                }
                None => Box::new(fresh),
            };
            if !sampled {
                // Recorded for the tail rules: held in the parent's local
                // trace, or the local root of a new one.
                let parent_trace = parent
                    .filter(|parent| !remote_parent && parent.span_id == parent_span_id)
                    .and_then(|parent| parent.recording.as_ref()?.hold.trace());
                recording.hold = tail::Hold::under(parent_trace);
            }
            attrs.record(&mut attributes::SpanFieldVisitor::new(
                &mut recording,
                self.redactor,
            ));
            recording
        });
        state.trace_id = trace_id;
        state.span_id = span_id;
        state.sampled = sampled;
        state.random = random;
        state.recording = recording;
    }

    /// Records later values of a span's fields.
    pub(crate) fn record(&self, state: &mut SpanState, values: &Record<'_>) {
        if let Some(recording) = state.recording.as_mut() {
            values.record(&mut attributes::SpanFieldVisitor::new(
                recording,
                self.redactor,
            ));
        }
    }

    /// Links a span to one it follows from, whose context is `follows`.
    pub(crate) fn follows_from(state: &mut SpanState, follows: SpanContext) {
        if let Some(recording) = state.recording.as_mut() {
            recording.add_link(Link::with_context(follows));
        }
    }

    /// Whether `event` is one for its span: warnings and errors become span
    /// events (and errors the span's status); the rest is for logs, which
    /// carry the span's ids anyway. The panic hook's line is not: the hook
    /// records the panic's `exception` event itself.
    #[inline]
    pub(crate) fn wants_event(event: &TracingEvent<'_>) -> bool {
        let metadata = event.metadata();
        *metadata.level() <= Level::WARN
            && !is_export_thread()
            && metadata.target() != exception::PANIC_TARGET
    }

    /// Adds `event` (one it [wants](Self::wants_event)) to its span.
    pub(crate) fn event(&self, state: &mut SpanState, event: &TracingEvent<'_>) {
        let Some(recording) = state.recording.as_mut() else {
            return;
        };
        let level = *event.metadata().level();
        let mut visitor = attributes::EventVisitor::new(self.redactor);
        event.record(&mut visitor);
        let message = visitor
            .message
            .unwrap_or_else(|| event.metadata().name().to_owned());
        let mut attributes = visitor.attributes;
        attributes.push(KeyValue::new("level", level.as_str()));
        // An error event fails the span, unless the application set `Ok`,
        // which is final.
        if level == Level::ERROR && recording.status != Status::Ok {
            recording.status = Status::error(message.clone());
        }
        recording.add_event(Event::new(message, SystemTime::now(), attributes, 0));
    }

    /// Queues a closing span's recording for export. The rest of the state
    /// stays: in a `tracing-subscriber` stack, layers closing the span after
    /// this one still read it.
    pub(crate) fn close(&self, state: &mut SpanState) {
        if let Some(mut recording) = state.recording.take() {
            recording.end = decide::take_end().unwrap_or_else(SystemTime::now);
            if let Some(sink) = &self.sink {
                sink.push(recording);
            }
        }
    }
}

#[cfg(test)]
mod tests;
