//! A recorded span's data ([`Recording`]): what only a recorded span pays
//! for, filled while the span is open and handed, boxed, to the export
//! queue when it closes; and the changes the span stage and the
//! integrations make to it (attributes within the span limits, events,
//! links, the failure, the name and kind).

use std::borrow::Cow;
use std::time::SystemTime;

use opentelemetry::KeyValue;
use opentelemetry::trace::{Event, Link, SpanId, SpanKind, Status, TraceFlags, TraceId};

use super::w3c::TraceState;
use super::{ids, tail};

/// The parts of a span that only a recorded span pays for. When the span
/// closes, this box itself is queued for export (one pointer through the
/// queue); the export thread writes it as OTLP protobuf (`export::wire`),
/// or turns it into a `SpanData` for the SDK exporters.
#[derive(Debug)]
pub(crate) struct Recording {
    pub(crate) trace_id: TraceId,
    pub(crate) span_id: SpanId,
    pub(crate) parent_span_id: SpanId,
    /// The parent is a span of another process.
    pub(crate) parent_is_remote: bool,
    /// The trace's W3C `random` flag (see [`Ids::random`]), exported in the
    /// span's flags beside `sampled`.
    pub(crate) random: bool,
    /// The W3C `tracestate` the trace arrived with, if any.
    pub(crate) trace_state: TraceState,
    pub(crate) end: SystemTime,
    /// Name, target (the scope) and code location: read on the export
    /// thread, so recording a span copies nothing from them.
    pub(crate) metadata: &'static tracing_core::Metadata<'static>,
    /// Set by an `otel.name` field.
    pub(crate) name: Option<Cow<'static, str>>,
    pub(crate) kind: SpanKind,
    pub(crate) start: SystemTime,
    pub(crate) attributes: Vec<KeyValue>,
    pub(crate) events: Vec<Event>,
    pub(crate) links: Vec<Link>,
    pub(crate) status: Status,
    /// What the span limits (`limits.span_*_count`, OpenTelemetry's 128
    /// each by default) left out, exported as the span's dropped counts. A
    /// long-lived span (a worker's loop) that logs a warning per item would
    /// otherwise hold every one of them until it ends.
    pub(crate) dropped: Dropped,
    /// A failure was reported on the span ([`Recording::set_error`]), which
    /// the status does not show when the application set it `Ok`.
    pub(crate) failed: bool,
    /// Where the span is held until its local root closes, when the head
    /// sampler left the trace out and tail rules record it anyway (see
    /// [`tail`]); [`tail::Hold::No`] for a head-sampled span.
    pub(crate) hold: tail::Hold,
}

/// How many attributes, events and links a span's limits left out.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Dropped {
    pub(crate) attributes: u32,
    pub(crate) events: u32,
    pub(crate) links: u32,
}

impl Recording {
    /// A span of `metadata`'s callsite started at `start`, with nothing
    /// else set yet: a local parent (or none), kind INTERNAL, no attributes.
    #[inline]
    pub(crate) fn new(
        trace_id: TraceId,
        span_id: SpanId,
        parent_span_id: SpanId,
        metadata: &'static tracing_core::Metadata<'static>,
        start: SystemTime,
    ) -> Self {
        Recording {
            trace_id,
            span_id,
            parent_span_id,
            parent_is_remote: false,
            random: false,
            trace_state: TraceState::NONE,
            end: SystemTime::UNIX_EPOCH,
            metadata,
            name: None,
            kind: SpanKind::Internal,
            start,
            attributes: Vec::new(),
            events: Vec::new(),
            links: Vec::new(),
            status: Status::Unset,
            dropped: Dropped::default(),
            failed: false,
            hold: tail::Hold::No,
        }
    }

    /// A root recording that ran from `start` to `end`.
    #[cfg(test)]
    pub(crate) fn new_for_test(
        trace_id: TraceId,
        span_id: SpanId,
        metadata: &'static tracing_core::Metadata<'static>,
        start: SystemTime,
        end: SystemTime,
    ) -> Self {
        Recording {
            end,
            ..Recording::new(trace_id, span_id, SpanId::INVALID, metadata, start)
        }
    }

    /// The W3C trace flags of the recorded span: sampled, and the trace's
    /// `random` flag.
    pub(crate) fn trace_flags(&self) -> TraceFlags {
        TraceFlags::new(ids::trace_flags_byte(true, self.random))
    }

    /// Empties the recording once exported, keeping its attribute storage
    /// for the span that reuses the box. Runs on the export thread, which
    /// has just read these attributes: freeing them there finds them in its
    /// cache, where the next span's thread would find them cold.
    pub(crate) fn clear_for_reuse(&mut self) {
        self.attributes.clear();
        self.events = Vec::new();
        self.links = Vec::new();
        self.name = None;
        self.trace_state = TraceState::NONE;
        self.status = Status::Unset;
        self.dropped = Dropped::default();
        self.failed = false;
        self.hold = tail::Hold::No;
    }

    /// Adds an event, unless the span holds its limit of events already.
    pub(crate) fn add_event(&mut self, event: Event) {
        if self.events.len() < crate::limits::span_events() {
            self.events.push(event);
        } else {
            self.dropped.events = self.dropped.events.saturating_add(1);
        }
    }

    /// Adds a link, unless the span holds its limit of links already.
    pub(crate) fn add_link(&mut self, link: Link) {
        if self.links.len() < crate::limits::span_links() {
            self.links.push(link);
        } else {
            self.dropped.links = self.dropped.links.saturating_add(1);
        }
    }

    /// Marks the span failed: an `error.type` attribute and status error
    /// (with `message`, else `error_type`); a message set earlier (an
    /// `error!` event inside, `err`) is kept when `message` is `None`. A
    /// status `Ok` set by the application is final, as OpenTelemetry has
    /// it: only the attribute is added.
    pub(crate) fn set_error(&mut self, error_type: Cow<'static, str>, message: Option<String>) {
        self.failed = true;
        match message {
            _ if self.status == Status::Ok => {}
            Some(message) => self.status = Status::error(message),
            None if matches!(self.status, Status::Error { .. }) => {}
            None => self.status = Status::error(error_type.clone()),
        }
        self.set_attribute(KeyValue::new("error.type", error_type));
    }

    /// Sets an attribute, replacing an earlier one of the same key.
    /// Past the span's limit of attributes, a new key is dropped (and
    /// counted); an existing one is still replaced.
    pub(crate) fn set_attribute(&mut self, attribute: KeyValue) {
        let kept = self.attributes.len();
        match self
            .attributes
            .iter_mut()
            .find(|kv| kv.key == attribute.key)
        {
            Some(existing) => *existing = attribute,
            None if kept < crate::limits::span_attributes() => self.attributes.push(attribute),
            None => self.dropped.attributes = self.dropped.attributes.saturating_add(1),
        }
    }
}

/// What an instrumentation that describes its spans directly, rather than
/// through `tracing` fields (the HTTP server layer and client middleware),
/// sets on a recording.
#[cfg_attr(not(any(feature = "axum", feature = "reqwest")), allow(dead_code))]
impl Recording {
    /// Sets the exported name (what an `otel.name` field does).
    pub(crate) fn set_name(&mut self, name: Cow<'static, str>) {
        self.name = Some(name);
    }

    /// Sets the span kind (what an `otel.kind` field does).
    pub(crate) fn set_kind(&mut self, kind: SpanKind) {
        self.kind = kind;
    }

    /// Keeps the W3C `tracestate` the trace arrived with.
    pub(crate) fn set_trace_state(&mut self, trace_state: TraceState) {
        self.trace_state = trace_state;
    }

    /// Room for `additional` more attributes.
    #[cfg_attr(not(feature = "reqwest"), allow(dead_code))]
    pub(crate) fn reserve_attributes(&mut self, additional: usize) {
        self.attributes.reserve(additional);
    }

    /// The attributes of a span that has none yet (one without `tracing`
    /// fields), to push to without looking for earlier keys.
    #[cfg_attr(not(feature = "axum"), allow(dead_code))]
    pub(crate) fn fresh_attributes(&mut self) -> &mut Vec<KeyValue> {
        debug_assert!(self.attributes.is_empty(), "not a fresh recording");
        &mut self.attributes
    }
}
