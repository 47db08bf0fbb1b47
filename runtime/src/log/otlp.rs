//! OTLP log export: each event becomes an OpenTelemetry log record with the
//! trace context of its span, queued for the export thread.

use std::time::SystemTime;

use opentelemetry::InstrumentationScope;
use opentelemetry::logs::{AnyValue, LogRecord, Logger, LoggerProvider, Severity};
use opentelemetry::trace::{SpanId, TraceFlags, TraceId};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogProcessor, SdkLogRecord, SdkLogger, SdkLoggerProvider};
use tracing_core::{Level, Metadata};

use crate::export::ExportQueue;
use crate::value::FieldValue;

use super::fields::Key;

/// Hands records created through the SDK's logger to o11y's export queue.
#[derive(Debug)]
struct QueueProcessor(ExportQueue);

impl LogProcessor for QueueProcessor {
    fn emit(&self, record: &mut SdkLogRecord, scope: &InstrumentationScope) {
        self.0.push_log(Box::new((record.clone(), scope.clone())));
    }
    fn force_flush(&self) -> OTelSdkResult {
        Ok(()) // flushing is the export thread's job, driven by the init guard
    }
}

/// The OTLP side of the log layer.
#[derive(Debug)]
pub(crate) struct OtlpLogs {
    logger: SdkLogger,
    // Keeps the logger's processors alive.
    _provider: SdkLoggerProvider,
}

impl OtlpLogs {
    pub(crate) fn new(queue: ExportQueue) -> Self {
        let provider = SdkLoggerProvider::builder()
            .with_log_processor(QueueProcessor(queue))
            .build();
        let logger = provider.logger("o11y");
        OtlpLogs {
            logger,
            _provider: provider,
        }
    }

    pub(crate) fn emit(
        &self,
        metadata: &Metadata<'_>,
        timestamp: SystemTime,
        message: String,
        fields: Vec<(Key, FieldValue)>,
        ids: Option<(TraceId, SpanId, bool)>,
    ) {
        let mut record = self.logger.create_log_record();
        record.set_timestamp(timestamp);
        record.set_observed_timestamp(timestamp);
        let (number, text) = severity(*metadata.level());
        record.set_severity_number(number);
        record.set_severity_text(text);
        record.set_target(metadata.target().to_owned());
        record.set_body(AnyValue::from(message));
        let (file, line) = crate::callsite::code_location(metadata);
        if let Some(file) = file {
            record.add_attribute("code.file.path", file.to_owned());
        }
        if let Some(line) = line {
            record.add_attribute("code.line.number", i64::from(line));
        }
        for (key, value) in fields {
            record.add_attribute(key, any_value(value));
        }
        if let Some((trace_id, span_id, sampled)) = ids {
            let flags = if sampled {
                TraceFlags::SAMPLED
            } else {
                TraceFlags::default()
            };
            record.set_trace_context(trace_id, span_id, Some(flags));
        }
        self.logger.emit(record);
    }
}

fn severity(level: Level) -> (Severity, &'static str) {
    match level {
        Level::ERROR => (Severity::Error, "ERROR"),
        Level::WARN => (Severity::Warn, "WARN"),
        Level::INFO => (Severity::Info, "INFO"),
        Level::DEBUG => (Severity::Debug, "DEBUG"),
        Level::TRACE => (Severity::Trace, "TRACE"),
    }
}

fn any_value(value: FieldValue) -> AnyValue {
    match value {
        FieldValue::Bool(v) => AnyValue::Boolean(v),
        FieldValue::I64(v) => AnyValue::Int(v),
        FieldValue::U64(v) => {
            i64::try_from(v).map_or_else(|_| AnyValue::from(v.to_string()), AnyValue::Int)
        }
        FieldValue::F64(v) => AnyValue::Double(v),
        FieldValue::Str(v) => AnyValue::String(v.into()),
    }
}
