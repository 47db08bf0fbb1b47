//! This process's telemetry in the store's form: a finished recording (on
//! the export thread, after it was scrubbed) and a JSON line of the log
//! stage (fields redacted already).

use std::sync::Arc;
use std::time::SystemTime;

use opentelemetry::trace::{self, Status};

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

/// A JSON value as the console shows it: strings as they are.
fn json_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn id<const N: usize>(value: Option<&serde_json::Value>) -> Option<[u8; N]> {
    let text = value?.as_str()?;
    if text.len() != 2 * N {
        return None;
    }
    let mut id = [0u8; N];
    for (i, byte) in id.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(id)
}

/// A line of the log stage, as its JSON text (`log::format::json`), as the
/// store keeps it; `None` for a text that is not such a line.
pub(super) fn line(json: &[u8], service: &Arc<str>) -> Option<StoredLog> {
    let serde_json::Value::Object(mut fields) = serde_json::from_slice(json).ok()? else {
        return None;
    };
    let mut take = |key: &str| fields.remove(key);
    let time = take("timestamp")
        .and_then(|t| humantime::parse_rfc3339(t.as_str()?).ok())
        .map_or(0, unix_nanos);
    let level = take("level").map_or(Level::Info, |l| {
        Level::from_severity(0, l.as_str().unwrap_or(""))
    });
    let message = take("event").as_ref().map(json_text).unwrap_or_default();
    let target = take("logger").as_ref().map(json_text).unwrap_or_default();
    let trace_id = id::<16>(take("trace_id").as_ref());
    let span_id = id::<8>(take("span_id").as_ref());
    Some(StoredLog {
        time,
        level,
        target,
        message,
        attributes: fields
            .iter()
            .map(|(key, value)| (key.clone(), json_text(value)))
            .collect(),
        trace_id,
        span_id,
        service: service.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_line_becomes_a_stored_line() {
        let json = br#"{"timestamp":"2026-12-08T00:36:08.021647Z","level":"warn","event":"n_plus_one_detected","logger":"o11y::db","file":"src/a.rs","trace_id":"cef957145a0a0302bdd4fb90990635a5","span_id":"a464a424a89ca4ab","count":8,"scope":"list_orders"}"#;
        let line = line(json, &Arc::from("svc")).unwrap();
        assert_eq!(line.level, Level::Warn);
        assert_eq!(line.message, "n_plus_one_detected");
        assert_eq!(line.target, "o11y::db");
        assert_eq!(line.attribute("count"), Some("8"));
        assert_eq!(line.attribute("scope"), Some("list_orders"));
        assert_eq!(line.attribute("event"), None, "taken out");
        assert_eq!(line.trace_id.map(|id| id[0]), Some(0xce));
        assert_eq!(line.span_id.map(|id| id[7]), Some(0xab));
        assert_eq!(line.time % 1_000_000_000, 21_647_000);
        assert!(super::line(b"not json", &Arc::from("svc")).is_none());
    }
}
