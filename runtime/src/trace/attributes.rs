//! Turning `tracing` fields into OpenTelemetry attributes, including the
//! special `otel.*` fields that set a span's name, kind and status. A
//! field whose name is sensitive (the redaction key rule, decided once per
//! field name) is recorded as the replacement, its value never
//! formatted; the value patterns run on the export thread.

use std::borrow::Cow;
use std::fmt;

use opentelemetry::KeyValue;
use opentelemetry::trace::{SpanKind, Status};
use tracing_core::field::{Field, Visit};

use super::Recording;
use crate::redact::{Redactor, Signal};

/// Records span fields into a [`Recording`].
pub(super) struct SpanFieldVisitor<'a> {
    recording: &'a mut Recording,
    redactor: &'a Redactor,
}

impl<'a> SpanFieldVisitor<'a> {
    pub(super) fn new(recording: &'a mut Recording, redactor: &'a Redactor) -> Self {
        SpanFieldVisitor {
            recording,
            redactor,
        }
    }

    /// Records the replacement of `field` when its name is sensitive;
    /// whether it did (the value is then left alone).
    #[inline]
    fn redacted(&mut self, field: &Field) -> bool {
        if !self.redactor.is_sensitive_field(field) {
            return false;
        }
        let replacement = self.redactor.key_redacted(Signal::Traces).to_owned();
        self.recording
            .set_attribute(KeyValue::new(field.name(), replacement));
        true
    }

    fn special(&mut self, name: &str, value: &str) -> bool {
        let recording = &mut *self.recording;
        match name {
            "otel.name" => recording.name = Some(Cow::Owned(value.to_owned())),
            "otel.kind" => {
                if let Some(kind) = parse_kind(value) {
                    recording.kind = kind;
                }
            }
            "otel.status_code" => match value.to_ascii_lowercase().as_str() {
                // Keep a description set earlier by otel.status_description.
                "error" if recording.status == Status::Unset => {
                    recording.status = Status::error("")
                }
                "ok" => recording.status = Status::Ok,
                _ => {}
            },
            // tracing-opentelemetry's name since 0.32, and its earlier one.
            "otel.status_description" | "otel.status_message" => {
                if recording.status != Status::Ok {
                    recording.status = Status::error(value.to_owned());
                }
            }
            _ => return false,
        }
        true
    }
}

fn parse_kind(value: &str) -> Option<SpanKind> {
    Some(match value.to_ascii_lowercase().as_str() {
        "server" => SpanKind::Server,
        "client" => SpanKind::Client,
        "producer" => SpanKind::Producer,
        "consumer" => SpanKind::Consumer,
        "internal" => SpanKind::Internal,
        _ => return None,
    })
}

impl Visit for SpanFieldVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if !self.redacted(field) && !self.special(field.name(), value) {
            self.recording
                .set_attribute(KeyValue::new(field.name(), value.to_owned()));
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.redacted(field) {
            return;
        }
        let text = format!("{value:?}");
        if !self.special(field.name(), &text) {
            self.recording
                .set_attribute(KeyValue::new(field.name(), text));
        }
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        if !self.redacted(field) {
            self.recording
                .set_attribute(KeyValue::new(field.name(), value));
        }
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        if !self.redacted(field) {
            self.recording
                .set_attribute(u64_attribute(field.name(), value));
        }
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        if !self.redacted(field) {
            self.recording
                .set_attribute(KeyValue::new(field.name(), value));
        }
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        if !self.redacted(field) {
            self.recording
                .set_attribute(KeyValue::new(field.name(), value));
        }
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if !self.redacted(field) {
            self.recording
                .set_attribute(KeyValue::new(field.name(), value.to_string()));
        }
    }
}

/// OTLP integers are signed: a `u64` too large for `i64` is sent as text
/// rather than wrapped into a negative number.
fn u64_attribute(name: &'static str, value: u64) -> KeyValue {
    match i64::try_from(value) {
        Ok(v) => KeyValue::new(name, v),
        Err(_) => KeyValue::new(name, value.to_string()),
    }
}

/// Collects an event's message and fields, for span events; a field whose
/// name is sensitive is kept as the replacement, as a span's own are.
pub(super) struct EventVisitor<'a> {
    pub(super) message: Option<String>,
    pub(super) attributes: Vec<KeyValue>,
    redactor: &'a Redactor,
}

impl<'a> EventVisitor<'a> {
    pub(super) fn new(redactor: &'a Redactor) -> Self {
        EventVisitor {
            message: None,
            attributes: Vec::new(),
            redactor,
        }
    }

    /// Keeps the replacement of `field` when its name is sensitive; whether
    /// it did.
    #[inline]
    fn redacted(&mut self, field: &Field) -> bool {
        if field.name() == "message" || !self.redactor.is_sensitive_field(field) {
            return false;
        }
        let replacement = self.redactor.key_redacted(Signal::Traces).to_owned();
        self.attributes
            .push(KeyValue::new(field.name(), replacement));
        true
    }
}

impl Visit for EventVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = Some(value.to_owned());
        } else if !self.redacted(field) {
            self.attributes
                .push(KeyValue::new(field.name(), value.to_owned()));
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.redacted(field) {
            return;
        }
        let text = format!("{value:?}");
        if field.name() == "message" {
            self.message = Some(text);
        } else {
            self.attributes.push(KeyValue::new(field.name(), text));
        }
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        if !self.redacted(field) {
            self.attributes.push(KeyValue::new(field.name(), value));
        }
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        if !self.redacted(field) {
            self.attributes.push(u64_attribute(field.name(), value));
        }
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        if !self.redacted(field) {
            self.attributes.push(KeyValue::new(field.name(), value));
        }
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        if !self.redacted(field) {
            self.attributes.push(KeyValue::new(field.name(), value));
        }
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if !self.redacted(field) {
            self.attributes
                .push(KeyValue::new(field.name(), value.to_string()));
        }
    }
}
