//! OTLP trace requests written straight from finished recordings: the
//! protobuf bytes of an `ExportTraceServiceRequest`, with no `SpanData`,
//! no `opentelemetry-proto` message tree and no second pass to size it.
//!
//! The SDK path (recording → `SpanData` → proto structs → prost) allocated
//! every id, name and attribute twice and cost about 6 µs per span on the
//! export thread, which shares the application's cores. Here a span is its
//! bytes, written once into the batch's buffer: a nested message gets a
//! placeholder for its length as wide as its body most likely needs (one
//! byte for an attribute, two for a span, three for a batch), and the body
//! moves only when that guess was wrong.
//!
//! The bytes decode to the very request `opentelemetry-proto`'s transform
//! builds from the same spans (a test holds them to it): spans grouped by
//! instrumentation scope (the `tracing` target) in order of first
//! appearance, the code location as `code.file.path` / `code.line.number`,
//! and the span flags with the "has is-remote" bit set.

use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{Event, Link, SpanId, SpanKind, Status, TraceFlags};
use opentelemetry::{Array, KeyValue, Value};
use opentelemetry_proto::tonic::resource::v1::Resource as PbResource;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_sdk::Resource;
use prost::Message as _;
use prost::encoding::{WireType, encode_key, encode_varint, encoded_len_varint};

use crate::trace::Recording;

/// `SpanFlags`: the W3C trace flags in the low byte, then whether the
/// parent's remoteness is known, and whether it is remote.
const FLAGS_HAS_IS_REMOTE: u32 = 0x100;
const FLAGS_IS_REMOTE: u32 = 0x200;

/// Encodes batches of finished spans into `ExportTraceServiceRequest`s for
/// one resource. Keeps its per-scope buffers between batches.
#[derive(Debug)]
pub(crate) struct TraceRequestEncoder {
    /// The `Resource` message, encoded once.
    resource: Vec<u8>,
    resource_schema_url: String,
    /// The spans of each scope of the batch being encoded, by target.
    scopes: Vec<(&'static str, Vec<u8>)>,
}

impl TraceRequestEncoder {
    pub(crate) fn new(resource: &Resource) -> Self {
        let ResourceAttributesWithSchema {
            attributes,
            schema_url,
        } = resource.into();
        let resource = PbResource {
            attributes: attributes.0,
            dropped_attributes_count: 0,
            entity_refs: Vec::new(),
        };
        TraceRequestEncoder {
            resource: resource.encode_to_vec(),
            resource_schema_url: schema_url.unwrap_or_default(),
            scopes: Vec::new(),
        }
    }

    /// The request carrying `spans`.
    pub(crate) fn encode<'a>(&mut self, spans: impl IntoIterator<Item = &'a Recording>) -> Vec<u8> {
        for (_, buffer) in &mut self.scopes {
            buffer.clear();
        }
        let mut used = 0;
        for span in spans {
            let target = span.metadata.target();
            let index = match self.scopes[..used].iter().position(|(t, _)| *t == target) {
                Some(index) => index,
                None => {
                    // Reuse a buffer left from an earlier batch.
                    match self.scopes.get_mut(used) {
                        Some(slot) => slot.0 = target,
                        None => self.scopes.push((target, Vec::new())),
                    }
                    used += 1;
                    used - 1
                }
            };
            message_sized(&mut self.scopes[index].1, 2, 2, |buf| write_span(buf, span));
        }

        let body: usize = self.scopes[..used].iter().map(|(_, b)| b.len()).sum();
        let mut out = Vec::with_capacity(body + self.resource.len() + 64 * used + 32);
        // ExportTraceServiceRequest.resource_spans
        message_sized(&mut out, 1, 3, |out| {
            // ResourceSpans.resource
            bytes_field(out, 1, &self.resource);
            for (target, spans) in &self.scopes[..used] {
                // ResourceSpans.scope_spans
                message_sized(out, 2, 3, |out| {
                    // ScopeSpans.scope: an InstrumentationScope named after the target
                    message(out, 1, |out| string(out, 1, target));
                    out.extend_from_slice(spans);
                });
            }
            string(out, 3, &self.resource_schema_url);
        });
        out
    }
}

/// A `Span` message's body.
fn write_span(buf: &mut Vec<u8>, span: &Recording) {
    bytes_field(buf, 1, &span.trace_id.to_bytes());
    bytes_field(buf, 2, &span.span_id.to_bytes());
    string(buf, 3, span.trace_state.header());
    if span.parent_span_id != SpanId::INVALID {
        bytes_field(buf, 4, &span.parent_span_id.to_bytes());
    }
    let name = match &span.name {
        Some(name) => name,
        None => span.metadata.name(),
    };
    string(buf, 5, name);
    varint(buf, 6, span_kind(&span.kind));
    fixed64(buf, 7, unix_nanos(span.start));
    fixed64(buf, 8, unix_nanos(span.end));
    for attribute in &span.attributes {
        key_value(buf, 9, attribute);
    }
    // The code location, as `take_span_data` appends it.
    let (file, line) = crate::callsite::code_location(span.metadata);
    if let Some(file) = file {
        message(buf, 9, |buf| {
            string(buf, 1, "code.file.path");
            message(buf, 2, |buf| string_value(buf, file));
        });
    }
    if let Some(line) = line {
        message(buf, 9, |buf| {
            string(buf, 1, "code.line.number");
            message(buf, 2, |buf| any_value(buf, &Value::I64(i64::from(line))));
        });
    }
    if span.dropped.attributes > 0 {
        varint(buf, 10, u64::from(span.dropped.attributes));
    }
    for event in &span.events {
        message(buf, 11, |buf| write_event(buf, event));
    }
    if span.dropped.events > 0 {
        varint(buf, 12, u64::from(span.dropped.events));
    }
    for link in &span.links {
        message(buf, 13, |buf| write_link(buf, link));
    }
    if span.dropped.links > 0 {
        varint(buf, 14, u64::from(span.dropped.links));
    }
    // Status: always present, as the SDK's transform sets it.
    message(buf, 15, |buf| match &span.status {
        Status::Unset => {}
        Status::Ok => varint(buf, 3, 1),
        Status::Error { description } => {
            string(buf, 2, description);
            varint(buf, 3, 2);
        }
    });
    fixed32(
        buf,
        16,
        span_flags(span.trace_flags(), span.parent_is_remote),
    );
}

fn write_event(buf: &mut Vec<u8>, event: &Event) {
    fixed64(buf, 1, unix_nanos(event.timestamp));
    string(buf, 2, &event.name);
    for attribute in &event.attributes {
        key_value(buf, 3, attribute);
    }
    varint(buf, 4, u64::from(event.dropped_attributes_count));
}

fn write_link(buf: &mut Vec<u8>, link: &Link) {
    let context = &link.span_context;
    bytes_field(buf, 1, &context.trace_id().to_bytes());
    bytes_field(buf, 2, &context.span_id().to_bytes());
    string(buf, 3, &context.trace_state().header());
    for attribute in &link.attributes {
        key_value(buf, 4, attribute);
    }
    varint(buf, 5, u64::from(link.dropped_attributes_count));
    fixed32(
        buf,
        6,
        span_flags(context.trace_flags(), context.is_remote()),
    );
}

/// `SpanFlags` of a span or link: its W3C trace flags, and whether its
/// parent (or the linked span) is remote, a bit OTLP marks as known.
fn span_flags(trace_flags: TraceFlags, remote: bool) -> u32 {
    let remote = if remote { FLAGS_IS_REMOTE } else { 0 };
    u32::from(trace_flags.to_u8()) | FLAGS_HAS_IS_REMOTE | remote
}

fn span_kind(kind: &SpanKind) -> u64 {
    match kind {
        SpanKind::Internal => 1,
        SpanKind::Server => 2,
        SpanKind::Client => 3,
        SpanKind::Producer => 4,
        SpanKind::Consumer => 5,
    }
}

fn key_value(buf: &mut Vec<u8>, field: u32, attribute: &KeyValue) {
    message(buf, field, |buf| {
        string(buf, 1, attribute.key.as_str());
        message(buf, 2, |buf| any_value(buf, &attribute.value));
    });
}

/// An `AnyValue` message's body. Its one field is written even when it
/// holds the default (`""`, `false`, `0`): it is a `oneof`.
fn any_value(buf: &mut Vec<u8>, value: &Value) {
    match value {
        Value::String(text) => string_value(buf, text.as_str()),
        Value::Bool(b) => {
            encode_key(2, WireType::Varint, buf);
            encode_varint(u64::from(*b), buf);
        }
        Value::I64(i) => {
            encode_key(3, WireType::Varint, buf);
            // int64: two's complement, as protobuf writes negative numbers
            encode_varint(*i as u64, buf);
        }
        Value::F64(f) => {
            encode_key(4, WireType::SixtyFourBit, buf);
            buf.extend_from_slice(&f.to_le_bytes());
        }
        Value::Array(array) => message(buf, 5, |buf| match array {
            Array::Bool(values) => array_values(buf, values, |v| Value::Bool(*v)),
            Array::I64(values) => array_values(buf, values, |v| Value::I64(*v)),
            Array::F64(values) => array_values(buf, values, |v| Value::F64(*v)),
            Array::String(values) => {
                for value in values {
                    message(buf, 1, |buf| string_value(buf, value.as_str()));
                }
            }
            // A kind of array newer than this code: its text, rather than nothing.
            other => message(buf, 1, |buf| string_value(buf, &other.to_string())),
        }),
        other => string_value(buf, &other.to_string()),
    }
}

fn array_values<T>(buf: &mut Vec<u8>, values: &[T], to_value: impl Fn(&T) -> Value) {
    for value in values {
        message(buf, 1, |buf| any_value(buf, &to_value(value)));
    }
}

/// An `AnyValue`'s `string_value`: written even when empty (a `oneof`).
fn string_value(buf: &mut Vec<u8>, text: &str) {
    length_delimited(buf, 1, text.as_bytes());
}

/// A length-delimited field whose body `write` appends. The length is
/// written after the body: one byte is set aside for it, and the body moved
/// up when its length needs more.
fn message(buf: &mut Vec<u8>, field: u32, write: impl FnOnce(&mut Vec<u8>)) {
    message_sized(buf, field, 1, write);
}

/// [`message`] for a body whose length most likely takes `width` bytes to
/// write (2 for a span, 128 bytes to 16 KiB; 3 for a batch): that many are
/// set aside, and the body moves only when the guess was wrong.
fn message_sized(buf: &mut Vec<u8>, field: u32, width: usize, write: impl FnOnce(&mut Vec<u8>)) {
    encode_key(field, WireType::LengthDelimited, buf);
    let at = buf.len();
    buf.resize(at + width, 0);
    let body = at + width;
    write(buf);
    let len = buf.len() - body;
    let needed = encoded_len_varint(len as u64);
    if needed != width {
        let end = buf.len();
        if needed > width {
            buf.resize(end + needed - width, 0);
        }
        buf.copy_within(body..end, at + needed);
        buf.truncate(at + needed + len);
    }
    let mut prefix = &mut buf[at..at + needed];
    encode_varint(len as u64, &mut prefix);
}

/// A `string` field; omitted when empty, as proto3 does.
fn string(buf: &mut Vec<u8>, field: u32, text: &str) {
    bytes_field(buf, field, text.as_bytes());
}

/// A `bytes` (or embedded, encoded message) field; omitted when empty.
fn bytes_field(buf: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    if !bytes.is_empty() {
        length_delimited(buf, field, bytes);
    }
}

fn length_delimited(buf: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    encode_key(field, WireType::LengthDelimited, buf);
    encode_varint(bytes.len() as u64, buf);
    buf.extend_from_slice(bytes);
}

/// A varint field; omitted when zero.
fn varint(buf: &mut Vec<u8>, field: u32, value: u64) {
    if value != 0 {
        encode_key(field, WireType::Varint, buf);
        encode_varint(value, buf);
    }
}

fn fixed64(buf: &mut Vec<u8>, field: u32, value: u64) {
    if value != 0 {
        encode_key(field, WireType::SixtyFourBit, buf);
        buf.extend_from_slice(&value.to_le_bytes());
    }
}

fn fixed32(buf: &mut Vec<u8>, field: u32, value: u32) {
    if value != 0 {
        encode_key(field, WireType::ThirtyTwoBit, buf);
        buf.extend_from_slice(&value.to_le_bytes());
    }
}

/// OTLP's time: nanoseconds since the Unix epoch (0 before it).
pub(super) fn unix_nanos(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::time::Duration;

    use opentelemetry::trace::{SpanContext, SpanId, TraceId, TraceState};
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
    use tracing_core::Metadata;
    use tracing_core::callsite::DefaultCallsite;
    use tracing_core::metadata::Kind;

    use super::*;
    use crate::trace::finished::DB_METADATA;
    use crate::trace::w3c;

    /// A user's span (target `shop::orders`, with a code location).
    static HANDLER: Metadata<'static> = tracing_core::metadata! {
        name: "get_order",
        target: "shop::orders",
        level: tracing_core::Level::INFO,
        fields: &[],
        callsite: &CALLSITE,
        kind: Kind::SPAN,
    };
    static CALLSITE: DefaultCallsite = DefaultCallsite::new(&HANDLER);

    fn at(ms: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(1_763_800_000_000 + ms)
    }

    /// Spans with every part a recording can carry, in two scopes.
    fn recordings() -> Vec<Recording> {
        let trace_id = TraceId::from(0x0af7651916cd43dd8448eb211c80319c);
        let long = "x".repeat(300); // lengths that need two bytes
        let mut server = Recording::new_for_test(trace_id, SpanId::from(1), &HANDLER, at(0), at(5));
        server.parent_span_id = SpanId::from(0xb7ad6b7169203331);
        server.parent_is_remote = true;
        server.trace_state = w3c::TraceState::parse("vendor=opaque").unwrap();
        server.random = true;
        server.name = Some(Cow::Borrowed("GET /orders/{id}"));
        server.kind = SpanKind::Server;
        server.attributes = vec![
            KeyValue::new("http.request.method", "GET"),
            KeyValue::new("http.response.status_code", 200_i64),
            KeyValue::new("negative", -7_i64),
            KeyValue::new("ratio", 0.25),
            KeyValue::new("cached", false),
            KeyValue::new("empty", ""),
            KeyValue::new("long", long.clone()),
            KeyValue::new(
                "tags",
                Value::Array(Array::String(vec!["a".into(), "b".into()])),
            ),
            KeyValue::new("ids", Value::Array(Array::I64(vec![1, -2]))),
            KeyValue::new("flags", Value::Array(Array::Bool(vec![true, false]))),
            KeyValue::new("weights", Value::Array(Array::F64(vec![0.5]))),
        ];
        server.events = vec![Event::new(
            "exception",
            at(3),
            vec![KeyValue::new("exception.message", long)],
            2,
        )];
        server.links = vec![Link::new(
            SpanContext::new(
                TraceId::from(7),
                SpanId::from(8),
                TraceFlags::SAMPLED,
                true,
                TraceState::NONE,
            ),
            vec![KeyValue::new("messaging.operation", "receive")],
            1,
        )];
        server.status = Status::error("boom");
        server.dropped = crate::trace::Dropped {
            attributes: 3,
            events: 130,
            links: 1,
        };

        let mut query =
            Recording::new_for_test(trace_id, SpanId::from(2), &DB_METADATA, at(1), at(2));
        query.parent_span_id = SpanId::from(1);
        query.kind = SpanKind::Client;
        query.status = Status::Ok;
        let child = Recording::new_for_test(trace_id, SpanId::from(3), &HANDLER, at(2), at(4));
        vec![server, query, child]
    }

    #[test]
    fn decodes_to_the_request_the_sdk_transform_builds() {
        let resource = Resource::builder_empty()
            .with_attributes([KeyValue::new("service.name", "shop")])
            .with_schema_url([], "https://opentelemetry.io/schemas/1.26.0")
            .build();
        let mut spans = recordings();
        let mut encoder = TraceRequestEncoder::new(&resource);
        let ours = encoder.encode(spans.iter());
        let decoded = ExportTraceServiceRequest::decode(ours.as_slice()).expect("valid protobuf");

        let data = spans.iter_mut().map(Recording::take_span_data).collect();
        let expected = ExportTraceServiceRequest {
            resource_spans: group_spans_by_resource_and_scope(data, &(&resource).into()),
        };
        assert_eq!(decoded, expected);
        assert_eq!(decoded.resource_spans[0].scope_spans.len(), 2, "two scopes");

        // The encoder keeps its buffers: a second batch is encoded alike.
        let again = encoder.encode(recordings().iter());
        assert_eq!(again, ours);
    }

    #[test]
    fn the_tracestate_and_the_random_flag_are_exported_as_kept() {
        // A key the SDK's TraceState refuses (more than 13 characters after
        // `@`): the SDK path cannot carry it, this encoder does.
        let text = format!("a=1,t@{}=2", "v".repeat(20));
        let mut span =
            Recording::new_for_test(TraceId::from(9), SpanId::from(1), &HANDLER, at(0), at(1));
        span.trace_state = w3c::TraceState::parse(&text).unwrap();
        span.random = true;
        let mut encoder = TraceRequestEncoder::new(&Resource::builder_empty().build());
        let decoded = ExportTraceServiceRequest::decode(encoder.encode([&span]).as_slice())
            .expect("valid protobuf");
        let exported = &decoded.resource_spans[0].scope_spans[0].spans[0];
        assert_eq!(exported.trace_state, text);
        assert_eq!(exported.flags & 0xff, 0x03, "sampled and random");
        span.random = false;
        let decoded = ExportTraceServiceRequest::decode(encoder.encode([&span]).as_slice())
            .expect("valid protobuf");
        assert_eq!(
            decoded.resource_spans[0].scope_spans[0].spans[0].flags & 0xff,
            0x01
        );
    }

    #[test]
    fn lengths_of_every_width_are_minimal() {
        for (len, guess) in [0, 1, 127, 128, 16_383, 16_384, 70_000, 2_100_000]
            .into_iter()
            .flat_map(|len| [(len, 1), (len, 2), (len, 3)])
        {
            let mut buf = Vec::new();
            message_sized(&mut buf, 1, guess, |buf| buf.resize(buf.len() + len, b'a'));
            let mut expected = Vec::new();
            bytes_field(&mut expected, 1, &vec![b'a'; len]);
            if len == 0 {
                // an empty message is still written; an empty bytes field is not
                assert_eq!(buf, [0x0a, 0]);
            } else {
                assert_eq!(buf, expected, "length {len}, guessed width {guess}");
            }
        }
    }
}
