//! The OpenTelemetry SDK's `SpanData` of a finished recording: what the
//! exporters given in code, and the console, are handed. The OTLP exporter
//! does without it (`export::wire` writes recordings as protobuf), so this
//! runs only for those, on the export thread.

use std::borrow::Cow;

use opentelemetry::trace::{Event, Link, SpanContext, SpanKind, Status};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};

use super::Recording;

impl Recording {
    /// The exporters' form of the finished span, built on the export
    /// thread; leaves the box empty, to be recycled.
    pub(crate) fn take_span_data(&mut self) -> SpanData {
        let metadata = self.metadata;
        let mut attributes = std::mem::take(&mut self.attributes);
        let (file, line) = crate::callsite::code_location(metadata);
        if let Some(file) = file {
            attributes.push(KeyValue::new("code.file.path", file));
        }
        if let Some(line) = line {
            attributes.push(KeyValue::new("code.line.number", i64::from(line)));
        }
        SpanData {
            span_context: SpanContext::new(
                self.trace_id,
                self.span_id,
                self.trace_flags(),
                false,
                std::mem::take(&mut self.trace_state).to_sdk(),
            ),
            parent_span_id: self.parent_span_id,
            parent_span_is_remote: self.parent_is_remote,
            span_kind: std::mem::replace(&mut self.kind, SpanKind::Internal),
            name: self.name.take().unwrap_or(Cow::Borrowed(metadata.name())),
            start_time: self.start,
            end_time: self.end,
            attributes,
            dropped_attributes_count: self.dropped.attributes,
            events: span_events(std::mem::take(&mut self.events), self.dropped.events),
            links: span_links(std::mem::take(&mut self.links), self.dropped.links),
            status: std::mem::replace(&mut self.status, Status::Unset),
            instrumentation_scope: InstrumentationScope::builder(metadata.target()).build(),
        }
    }
}

fn span_events(events: Vec<Event>, dropped: u32) -> SpanEvents {
    let mut span_events = SpanEvents::default();
    span_events.events = events;
    span_events.dropped_count = dropped;
    span_events
}

fn span_links(links: Vec<Link>, dropped: u32) -> SpanLinks {
    let mut span_links = SpanLinks::default();
    span_links.links = links;
    span_links.dropped_count = dropped;
    span_links
}
