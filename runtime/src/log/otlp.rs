//! OTLP log export: each event becomes an OpenTelemetry log record with the
//! trace context of its span, queued for the export thread.

use std::time::SystemTime;

use opentelemetry::logs::{AnyValue, LogRecord, Logger, LoggerProvider, Severity};
use opentelemetry_sdk::logs::{LogProcessor, SdkLogger, SdkLoggerProvider};
use tracing_core::{Level, Metadata};

use crate::value::FieldValue;

use super::fields::Key;

/// The OTLP side of the log layer.
#[derive(Debug)]
pub(crate) struct OtlpLogs {
    logger: SdkLogger,
    // Keeps the logger's processors alive.
    _provider: SdkLoggerProvider,
}

impl OtlpLogs {
    /// Records go to `processor`: the export queue's, which lives in a
    /// layer above this one.
    pub(crate) fn new(processor: impl LogProcessor + 'static) -> Self {
        let provider = SdkLoggerProvider::builder()
            .with_log_processor(processor)
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
        ids: Option<crate::trace::Ids>,
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
        if let Some(ids) = ids {
            record.set_trace_context(ids.trace_id, ids.span_id, Some(ids.trace_flags()));
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
