//! Other processes' telemetry in the store's form: the bodies of OTLP/HTTP
//! protobuf requests (`ExportTraceServiceRequest`,
//! `ExportLogsServiceRequest`) that the console's receiver accepts,
//! decoded with the opentelemetry-proto types.

use std::sync::Arc;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{span, status};
use prost::Message;

use super::{Level, SpanId, SpanKind, StoredEvent, StoredLog, StoredSpan, TraceId};

/// A request body that is not the message it should be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DecodeError(pub(crate) String);

fn text(value: Option<&AnyValue>) -> String {
    match value.and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::DoubleValue(f)) => f.to_string(),
        Some(any_value::Value::BytesValue(bytes)) => format!("{} bytes", bytes.len()),
        Some(any_value::Value::ArrayValue(array)) => {
            let texts: Vec<String> = array.values.iter().map(|v| text(Some(v))).collect();
            format!("[{}]", texts.join(", "))
        }
        Some(any_value::Value::KvlistValue(list)) => {
            let texts: Vec<String> = list
                .values
                .iter()
                .map(|kv| format!("{}: {}", kv.key, text(kv.value.as_ref())))
                .collect();
            format!("{{{}}}", texts.join(", "))
        }
        _ => String::new(),
    }
}

fn pairs(attributes: &[KeyValue]) -> Vec<(String, String)> {
    attributes
        .iter()
        .map(|kv| (kv.key.clone(), text(kv.value.as_ref())))
        .collect()
}

/// The sender's `service.name`.
fn service(resource: Option<&Resource>) -> Arc<str> {
    resource
        .and_then(|r| r.attributes.iter().find(|kv| kv.key == "service.name"))
        .map(|kv| text(kv.value.as_ref()))
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown_service".to_owned())
        .into()
}

fn trace_id(bytes: &[u8]) -> Option<TraceId> {
    let id: TraceId = bytes.try_into().ok()?;
    (id != [0; 16]).then_some(id)
}

fn span_id(bytes: &[u8]) -> Option<SpanId> {
    let id: SpanId = bytes.try_into().ok()?;
    (id != [0; 8]).then_some(id)
}

fn kind(value: i32) -> SpanKind {
    match span::SpanKind::try_from(value) {
        Ok(span::SpanKind::Server) => SpanKind::Server,
        Ok(span::SpanKind::Client) => SpanKind::Client,
        Ok(span::SpanKind::Producer) => SpanKind::Producer,
        Ok(span::SpanKind::Consumer) => SpanKind::Consumer,
        _ => SpanKind::Internal,
    }
}

/// The spans of an OTLP/HTTP trace request body; spans without valid ids
/// are left out.
pub(crate) fn decode_traces(body: &[u8]) -> Result<Vec<StoredSpan>, DecodeError> {
    let request = ExportTraceServiceRequest::decode(body)
        .map_err(|e| DecodeError(format!("not an OTLP ExportTraceServiceRequest: {e}")))?;
    let mut spans = Vec::new();
    for resource_spans in &request.resource_spans {
        let service = service(resource_spans.resource.as_ref());
        for scope_spans in &resource_spans.scope_spans {
            for span in &scope_spans.spans {
                let (Some(trace_id), Some(span_id)) =
                    (trace_id(&span.trace_id), span_id(&span.span_id))
                else {
                    continue;
                };
                let error = span.status.as_ref().and_then(|s| {
                    (s.code == status::StatusCode::Error as i32).then(|| s.message.clone())
                });
                spans.push(StoredSpan {
                    trace_id,
                    span_id,
                    parent_span_id: self::span_id(&span.parent_span_id),
                    service: service.clone(),
                    name: span.name.clone(),
                    kind: kind(span.kind),
                    start: span.start_time_unix_nano,
                    end: span.end_time_unix_nano.max(span.start_time_unix_nano),
                    attributes: pairs(&span.attributes),
                    events: span
                        .events
                        .iter()
                        .map(|event| StoredEvent {
                            name: event.name.clone(),
                            time: event.time_unix_nano,
                            attributes: pairs(&event.attributes),
                        })
                        .collect(),
                    error,
                });
            }
        }
    }
    Ok(spans)
}

/// The log records of an OTLP/HTTP logs request body.
pub(crate) fn decode_logs(body: &[u8]) -> Result<Vec<StoredLog>, DecodeError> {
    let request = ExportLogsServiceRequest::decode(body)
        .map_err(|e| DecodeError(format!("not an OTLP ExportLogsServiceRequest: {e}")))?;
    let mut logs = Vec::new();
    for resource_logs in &request.resource_logs {
        let service = service(resource_logs.resource.as_ref());
        for scope_logs in &resource_logs.scope_logs {
            let scope = scope_logs
                .scope
                .as_ref()
                .map(|s| s.name.as_str())
                .unwrap_or("");
            for record in &scope_logs.log_records {
                let time = if record.time_unix_nano != 0 {
                    record.time_unix_nano
                } else {
                    record.observed_time_unix_nano
                };
                let mut attributes = pairs(&record.attributes);
                // o11y's own records name their logger as the scope; others
                // as they will.
                let target = attributes
                    .iter()
                    .position(|(key, _)| key == "target")
                    .map(|i| attributes.remove(i).1)
                    .unwrap_or_else(|| scope.to_owned());
                logs.push(StoredLog {
                    time,
                    level: Level::from_severity(record.severity_number, &record.severity_text),
                    target,
                    message: text(record.body.as_ref()),
                    attributes,
                    trace_id: trace_id(&record.trace_id),
                    span_id: span_id(&record.span_id),
                    service: service.clone(),
                });
            }
        }
    }
    Ok(logs)
}

#[cfg(test)]
mod tests {
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};

    use super::*;

    fn string(key: &str, value: &str) -> KeyValue {
        KeyValue {
            key: key.to_owned(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue(value.to_owned())),
            }),
            ..Default::default()
        }
    }

    fn resource(service: &str) -> Option<Resource> {
        Some(Resource {
            attributes: vec![string("service.name", service)],
            ..Default::default()
        })
    }

    #[test]
    fn a_trace_request_decodes_into_spans_with_their_service() {
        let request = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: resource("worker"),
                scope_spans: vec![ScopeSpans {
                    spans: vec![
                        Span {
                            trace_id: vec![7; 16],
                            span_id: vec![2; 8],
                            parent_span_id: vec![1; 8],
                            name: "process_order".into(),
                            kind: span::SpanKind::Consumer as i32,
                            start_time_unix_nano: 1_000,
                            end_time_unix_nano: 5_000,
                            attributes: vec![
                                string("messaging.system", "redis"),
                                KeyValue {
                                    key: "retries".into(),
                                    value: Some(AnyValue {
                                        value: Some(any_value::Value::IntValue(3)),
                                    }),
                                    ..Default::default()
                                },
                            ],
                            status: Some(Status {
                                message: "it failed".into(),
                                code: status::StatusCode::Error as i32,
                            }),
                            ..Default::default()
                        },
                        // No valid ids: left out.
                        Span {
                            trace_id: vec![0; 16],
                            span_id: vec![3; 8],
                            ..Default::default()
                        },
                    ],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let spans = decode_traces(&request.encode_to_vec()).unwrap();
        assert_eq!(spans.len(), 1);
        let span = &spans[0];
        assert_eq!(&*span.service, "worker");
        assert_eq!((span.trace_id, span.span_id), ([7; 16], [2; 8]));
        assert_eq!(span.parent_span_id, Some([1; 8]));
        assert_eq!(span.kind, SpanKind::Consumer);
        assert_eq!((span.start, span.end), (1_000, 5_000));
        assert_eq!(span.attribute("messaging.system"), Some("redis"));
        assert_eq!(span.attribute("retries"), Some("3"));
        assert_eq!(span.error.as_deref(), Some("it failed"));
    }

    #[test]
    fn a_logs_request_decodes_into_lines_with_their_trace() {
        let request = ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                resource: resource("worker"),
                scope_logs: vec![ScopeLogs {
                    scope: Some(
                        opentelemetry_proto::tonic::common::v1::InstrumentationScope {
                            name: "o11y".into(),
                            ..Default::default()
                        },
                    ),
                    log_records: vec![LogRecord {
                        time_unix_nano: 42,
                        severity_number: 13,
                        severity_text: "WARN".into(),
                        body: Some(AnyValue {
                            value: Some(any_value::Value::StringValue("order confirmed".into())),
                        }),
                        attributes: vec![string("order_id", "7")],
                        trace_id: vec![7; 16],
                        span_id: vec![2; 8],
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let logs = decode_logs(&request.encode_to_vec()).unwrap();
        assert_eq!(logs.len(), 1);
        let line = &logs[0];
        assert_eq!((line.time, line.level), (42, Level::Warn));
        assert_eq!(line.message, "order confirmed");
        assert_eq!(line.target, "o11y");
        assert_eq!(line.attribute("order_id"), Some("7"));
        assert_eq!((line.trace_id, line.span_id), (Some([7; 16]), Some([2; 8])));
    }

    #[test]
    fn a_body_that_is_not_the_message_is_refused() {
        let error = decode_traces(b"\xff\xff\xff not protobuf").unwrap_err();
        assert!(error.0.contains("ExportTraceServiceRequest"), "{error:?}");
        assert!(decode_logs(b"\x0a\xff").is_err());
    }
}
