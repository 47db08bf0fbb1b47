//! Turning `tracing` fields into OpenTelemetry attributes, including the
//! special `otel.*` fields that set a span's name, kind and status.

use std::borrow::Cow;
use std::fmt;

use opentelemetry::KeyValue;
use opentelemetry::trace::{SpanKind, Status};
use tracing_core::field::{Field, Visit};

use super::Recording;

/// Records span fields into a [`Recording`].
pub(super) struct SpanFieldVisitor<'a>(pub(super) &'a mut Recording);

impl SpanFieldVisitor<'_> {
    fn special(&mut self, name: &str, value: &str) -> bool {
        match name {
            "otel.name" => self.0.name = Some(Cow::Owned(value.to_owned())),
            "otel.kind" => {
                if let Some(kind) = parse_kind(value) {
                    self.0.kind = kind;
                }
            }
            "otel.status_code" => match value.to_ascii_lowercase().as_str() {
                // Keep a description set earlier by otel.status_description.
                "error" if self.0.status == Status::Unset => self.0.status = Status::error(""),
                "ok" => self.0.status = Status::Ok,
                _ => {}
            },
            // tracing-opentelemetry's name since 0.32, and its earlier one.
            "otel.status_description" | "otel.status_message" => {
                if self.0.status != Status::Ok {
                    self.0.status = Status::error(value.to_owned());
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
        if !self.special(field.name(), value) {
            self.0
                .set_attribute(KeyValue::new(field.name(), value.to_owned()));
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let text = format!("{value:?}");
        if !self.special(field.name(), &text) {
            self.0.set_attribute(KeyValue::new(field.name(), text));
        }
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.set_attribute(KeyValue::new(field.name(), value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.set_attribute(u64_attribute(field.name(), value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.set_attribute(KeyValue::new(field.name(), value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.set_attribute(KeyValue::new(field.name(), value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0
            .set_attribute(KeyValue::new(field.name(), value.to_string()));
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

/// Collects an event's message and fields, for span events.
#[derive(Default)]
pub(super) struct EventVisitor {
    pub(super) message: Option<String>,
    pub(super) attributes: Vec<KeyValue>,
}

impl Visit for EventVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = Some(value.to_owned());
        } else {
            self.attributes
                .push(KeyValue::new(field.name(), value.to_owned()));
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let text = format!("{value:?}");
        if field.name() == "message" {
            self.message = Some(text);
        } else {
            self.attributes.push(KeyValue::new(field.name(), text));
        }
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.attributes.push(KeyValue::new(field.name(), value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.attributes.push(u64_attribute(field.name(), value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.attributes.push(KeyValue::new(field.name(), value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.attributes.push(KeyValue::new(field.name(), value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.attributes
            .push(KeyValue::new(field.name(), value.to_string()));
    }
}
