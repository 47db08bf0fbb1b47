//! What a finished span loses on the export thread, before any destination
//! (the OTLP encoder, the `SpanData` exporters) reads it: the secrets the
//! redaction engine's value patterns find in its text (attributes, each
//! text of an array attribute, its name, its status message, its events'
//! names and attributes, its links' attributes), the values of event and
//! link attributes with a sensitive name, and what the value length limit
//! cuts off.
//!
//! Here rather than when the span records: a span's text is scanned once,
//! off the request path, on the thread that reads it anyway. The names of a
//! span's own fields were decided when they were recorded (once per
//! callsite field); an event's or a link's attributes come from anywhere
//! (an `exception` event, a link made in code), so their names are checked
//! here, one by one: there are few of them.

use std::borrow::Cow;

use opentelemetry::trace::{Event, Link, Status};
use opentelemetry::{Array, KeyValue, StringValue, Value};

use crate::limits;
use crate::redact::{Redactor, Signal};
use crate::trace::Recording;

/// Scrubs `span` in place with `redactor`, cutting text values to
/// `max_chars` characters when set.
pub(super) fn span(span: &mut Recording, redactor: &Redactor, max_chars: Option<usize>) {
    if !redactor.is_enabled() && max_chars.is_none() {
        return;
    }
    let scrub = Scrub {
        redactor,
        max_chars,
    };
    if let Some(name) = &mut span.name {
        scrub.cow(name);
    }
    for attribute in &mut span.attributes {
        scrub.value(&mut attribute.value);
    }
    for event in &mut span.events {
        scrub.event(event);
    }
    for link in &mut span.links {
        scrub.link(link);
    }
    if let Status::Error { description } = &mut span.status {
        scrub.cow(description);
    }
}

struct Scrub<'a> {
    redactor: &'a Redactor,
    max_chars: Option<usize>,
}

impl Scrub<'_> {
    /// `text` redacted then cut (in that order: a cut secret would no
    /// longer match its pattern); `None` when it stays as it is.
    fn text(&self, text: &str) -> Option<String> {
        let scrubbed = self.redactor.scrub(text, Signal::Traces);
        let current = scrubbed.as_deref().unwrap_or(text);
        match self.max_chars.and_then(|max| limits::cut_at(current, max)) {
            Some(at) => Some(current[..at].to_owned()),
            None => scrubbed,
        }
    }

    fn cow(&self, text: &mut Cow<'static, str>) {
        if let Some(scrubbed) = self.text(text) {
            *text = Cow::Owned(scrubbed);
        }
    }

    fn string(&self, text: &mut StringValue) {
        if let Some(scrubbed) = self.text(text.as_str()) {
            *text = scrubbed.into();
        }
    }

    fn value(&self, value: &mut Value) {
        match value {
            Value::String(text) => self.string(text),
            Value::Array(Array::String(texts)) => texts.iter_mut().for_each(|t| self.string(t)),
            _ => {}
        }
    }

    /// An attribute of an event or a link: its whole value replaced when
    /// its name is sensitive (unless it was at recording), else scrubbed.
    fn attribute(&self, attribute: &mut KeyValue) {
        if self.redactor.is_sensitive_key(attribute.key.as_str()) {
            let replacement = self.redactor.replacement();
            let already =
                matches!(&attribute.value, Value::String(text) if text.as_str() == replacement);
            if !already {
                let replacement = self.redactor.key_redacted(Signal::Traces).to_owned();
                attribute.value = Value::String(replacement.into());
            }
            return;
        }
        self.value(&mut attribute.value);
    }

    fn event(&self, event: &mut Event) {
        self.cow(&mut event.name);
        for attribute in &mut event.attributes {
            self.attribute(attribute);
        }
    }

    fn link(&self, link: &mut Link) {
        for attribute in &mut link.attributes {
            self.attribute(attribute);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use opentelemetry::trace::{SpanContext, SpanId, TraceId};

    use super::*;
    use crate::config::RedactionConfig;
    use crate::trace::finished::DB_METADATA;

    fn redactor() -> Redactor {
        Redactor::new(&RedactionConfig::default()).expect("the defaults")
    }

    fn text(value: &Value) -> &str {
        match value {
            Value::String(text) => text.as_str(),
            other => panic!("text expected, got {other:?}"),
        }
    }

    /// A span with a secret in every place a text can be.
    fn leaky_span() -> Recording {
        let now = SystemTime::now();
        let mut span =
            Recording::new_for_test(TraceId::from(1), SpanId::from(2), &DB_METADATA, now, now);
        span.name = Some(Cow::Owned("notify ada@example.com".to_owned()));
        span.attributes = vec![
            KeyValue::new("db.query.text", "SELECT 1 -- ada@example.com"),
            KeyValue::new("order_id", 42_i64),
            KeyValue::new(
                "http.request.header.x-forwarded-user",
                Value::Array(Array::String(vec!["ada@example.com".into(), "ok".into()])),
            ),
            KeyValue::new("note", "nothing secret here"),
        ];
        span.events = vec![Event::new(
            "payment failed for 4111 1111 1111 1111",
            now,
            vec![
                KeyValue::new("exception.type", "CardDeclined"),
                KeyValue::new("exception.message", "card 4111111111111111 declined"),
                KeyValue::new("api_key", "k-123"),
            ],
            0,
        )];
        span.links = vec![Link::new(
            SpanContext::empty_context(),
            vec![KeyValue::new("session", "s-1")],
            0,
        )];
        span.status = Status::error("token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig leaked");
        span
    }

    #[test]
    fn every_text_of_a_span_is_scrubbed_and_the_rest_kept() {
        let mut span = leaky_span();
        super::span(&mut span, &redactor(), None);
        assert_eq!(span.name.as_deref(), Some("notify [REDACTED]"));
        assert_eq!(text(&span.attributes[0].value), "SELECT 1 -- [REDACTED]");
        assert_eq!(span.attributes[1].value, Value::I64(42));
        assert_eq!(
            span.attributes[2].value,
            Value::Array(Array::String(vec!["[REDACTED]".into(), "ok".into()]))
        );
        assert_eq!(text(&span.attributes[3].value), "nothing secret here");
        let event = &span.events[0];
        assert_eq!(event.name, "payment failed for [REDACTED]");
        assert_eq!(text(&event.attributes[0].value), "CardDeclined");
        assert_eq!(text(&event.attributes[1].value), "card [REDACTED] declined");
        assert_eq!(
            text(&event.attributes[2].value),
            "[REDACTED]",
            "by its name"
        );
        assert_eq!(text(&span.links[0].attributes[0].value), "[REDACTED]");
        assert_eq!(span.status, Status::error("token [REDACTED] leaked"));
    }

    #[test]
    fn long_texts_are_cut_after_redaction() {
        let mut span = leaky_span();
        super::span(&mut span, &redactor(), Some(12));
        assert_eq!(text(&span.attributes[0].value), "SELECT 1 -- ");
        assert_eq!(text(&span.attributes[3].value), "nothing secr");
        assert_eq!(span.events[0].name, "payment fail");
        assert_eq!(
            text(&span.events[0].attributes[1].value),
            "card [REDACT",
            "the secret went first"
        );
    }

    #[test]
    fn off_leaves_the_span_alone() {
        let config = RedactionConfig {
            enabled: false,
            ..RedactionConfig::default()
        };
        let mut span = leaky_span();
        super::span(&mut span, &Redactor::new(&config).expect("valid"), None);
        assert_eq!(span.name.as_deref(), Some("notify ada@example.com"));
        assert_eq!(text(&span.events[0].attributes[2].value), "k-123");
    }
}
