//! This process's telemetry in the store's form: a finished recording (on
//! the export thread, after it was scrubbed) and an OTLP log record of the
//! log stage.

use std::sync::Arc;
use std::time::SystemTime;

use opentelemetry::logs::{AnyValue, Severity};
use opentelemetry::trace::{self, Status};
use opentelemetry_sdk::logs::SdkLogRecord;

use super::{Level, SpanKind, StoredEvent, StoredLog, StoredSpan};
use crate::trace::Recording;

/// Unix time in nanoseconds (0 before the epoch).
pub(super) fn unix_nanos(time: SystemTime) -> u64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
        })
}

fn kind(kind: &trace::SpanKind) -> SpanKind {
    match kind {
        trace::SpanKind::Server => SpanKind::Server,
        trace::SpanKind::Client => SpanKind::Client,
        trace::SpanKind::Producer => SpanKind::Producer,
        trace::SpanKind::Consumer => SpanKind::Consumer,
        trace::SpanKind::Internal => SpanKind::Internal,
    }
}

fn pairs(attributes: &[opentelemetry::KeyValue]) -> Vec<(String, String)> {
    attributes
        .iter()
        .map(|kv| (kv.key.as_str().to_owned(), kv.value.as_str().into_owned()))
        .collect()
}

/// A recording as the store keeps it; the recording is left as it was, for
/// the exporters after the store.
pub(super) fn span(recording: &Recording, service: &Arc<str>) -> StoredSpan {
    let metadata = recording.metadata;
    let mut attributes = pairs(&recording.attributes);
    let (file, line) = crate::callsite::code_location(metadata);
    if let Some(file) = file {
        attributes.push(("code.file.path".to_owned(), file.to_owned()));
    }
    if let Some(line) = line {
        attributes.push(("code.line.number".to_owned(), line.to_string()));
    }
    StoredSpan {
        trace_id: recording.trace_id.to_bytes(),
        span_id: recording.span_id.to_bytes(),
        parent_span_id: (recording.parent_span_id != trace::SpanId::INVALID)
            .then(|| recording.parent_span_id.to_bytes()),
        service: service.clone(),
        name: recording
            .name
            .as_deref()
            .unwrap_or(metadata.name())
            .to_owned(),
        kind: kind(&recording.kind),
        start: unix_nanos(recording.start),
        end: unix_nanos(recording.end),
        attributes,
        events: recording
            .events
            .iter()
            .map(|event| StoredEvent {
                name: event.name.to_string(),
                time: unix_nanos(event.timestamp),
                attributes: pairs(&event.attributes),
            })
            .collect(),
        error: match &recording.status {
            Status::Error { description } => Some(description.to_string()),
            _ => None,
        },
    }
}

/// A value as text, as the console shows it.
pub(super) fn any_value_text(value: &AnyValue) -> String {
    match value {
        AnyValue::Int(i) => i.to_string(),
        AnyValue::Double(f) => f.to_string(),
        AnyValue::String(s) => s.as_str().to_owned(),
        AnyValue::Boolean(b) => b.to_string(),
        AnyValue::Bytes(bytes) => format!("{} bytes", bytes.len()),
        AnyValue::ListAny(items) => {
            let texts: Vec<String> = items.iter().map(any_value_text).collect();
            format!("[{}]", texts.join(", "))
        }
        AnyValue::Map(map) => {
            let mut texts: Vec<String> = map
                .iter()
                .map(|(key, value)| format!("{}: {}", key.as_str(), any_value_text(value)))
                .collect();
            texts.sort();
            format!("{{{}}}", texts.join(", "))
        }
        _ => String::new(),
    }
}

fn level(severity: Option<Severity>, text: Option<&str>) -> Level {
    Level::from_severity(severity.map_or(0, |s| s as i32), text.unwrap_or(""))
}

/// A log record of the log stage as the store keeps it.
pub(super) fn log(record: &SdkLogRecord, service: &Arc<str>) -> StoredLog {
    let context = record.trace_context();
    StoredLog {
        time: record
            .timestamp()
            .or(record.observed_timestamp())
            .map_or(0, unix_nanos),
        level: level(record.severity_number(), record.severity_text()),
        target: record.target().map(|t| t.to_string()).unwrap_or_default(),
        message: record.body().map(any_value_text).unwrap_or_default(),
        attributes: record
            .attributes_iter()
            .map(|(key, value)| (key.as_str().to_owned(), any_value_text(value)))
            .collect(),
        trace_id: context.map(|c| c.trace_id.to_bytes()),
        span_id: context.map(|c| c.span_id.to_bytes()),
        service: service.clone(),
    }
}
