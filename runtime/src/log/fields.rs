//! Fields that log lines carry: those of the event, and those of every
//! enclosing span (declared ones, recorded later ones, and ones added at run
//! time through [`crate::tag`] / [`crate::log_context`]).
//!
//! This is where a line's fields and message are redacted and cut to the
//! value length limit, once, as they are collected: a span's when it is
//! created or recorded, an event's when it happens. Every sink (the
//! console, JSON on standard output, the file, OTLP records) then writes
//! the same scrubbed values.

use std::borrow::Cow;
use std::fmt::{self, Write as _};

use smallvec::SmallVec;
use tracing_core::field::{Field, Visit};

use crate::redact::{FieldKeys, Redactor, Signal};
use crate::value::FieldValue;

pub(crate) type Key = Cow<'static, str>;

/// A span's fields as log lines see them, in its `SpanState`. Held inline
/// up to four (a request span's log context is three or four): the span
/// state's own allocation is then the only one.
///
/// Text values are written into buffers it keeps: [`clear`](Self::clear)
/// keeps those of the values it drops, and [`text`](Self::text) reuses
/// them. A span slot of `init()`'s subscriber, reset for span after span,
/// and a thread's event collector then give text fields (a request's id
/// and path, say) without allocating each time.
#[derive(Debug, Default)]
pub(crate) struct SpanFields {
    entries: SmallVec<[(Key, FieldValue); 4]>,
    spare: Vec<String>,
}

/// The most text buffers kept for reuse, and the largest: enough for a
/// request span's log context, and never a large value's memory held on.
const MAX_SPARE: usize = 4;
const MAX_SPARE_CAPACITY: usize = 256;

impl SpanFields {
    pub(crate) const fn new() -> Self {
        SpanFields {
            entries: SmallVec::new_const(),
            spare: Vec::new(),
        }
    }

    /// The fields, in the order they were first set.
    pub(crate) fn as_slice(&self) -> &[(Key, FieldValue)] {
        &self.entries
    }

    /// Sets a field, replacing an earlier value of the same key.
    pub(crate) fn set(&mut self, key: Key, value: FieldValue) {
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.entries.push((key, value)),
        }
    }

    /// Sets a field given at run time (the context API, the HTTP layer's
    /// request fields), redacted by `redactor` as collected fields are: a
    /// sensitive `key` replaces the whole value, and a text value goes
    /// through the value patterns and the length limit.
    pub(crate) fn set_scrubbed(&mut self, key: Key, value: FieldValue, redactor: &Redactor) {
        let value = if redactor.is_sensitive_key(&key) {
            self.text(redactor.key_redacted(Signal::Logs))
        } else {
            scrubbed(value, redactor)
        };
        self.set(key, value);
    }

    /// Redacts the value of the field added last by the value patterns, and
    /// cuts it to the length limit: for a field whose name is known not to
    /// be sensitive (the HTTP layer's `path`).
    #[cfg_attr(not(feature = "axum"), allow(dead_code))]
    pub(crate) fn scrub_last(&mut self, redactor: &Redactor) {
        if let Some((_, value)) = self.entries.last_mut() {
            *value = scrubbed(std::mem::replace(value, FieldValue::Bool(false)), redactor);
        }
    }

    /// Adds a field, even when one of the same key is there (see
    /// [`FieldCollector::visitor`]).
    pub(crate) fn push(&mut self, key: Key, value: FieldValue) {
        self.entries.push((key, value));
    }

    /// `text` as a value, in a kept buffer when there is one.
    pub(crate) fn text(&mut self, text: &str) -> FieldValue {
        let mut owned = self.spare.pop().unwrap_or_default();
        owned.push_str(text);
        FieldValue::Str(Cow::Owned(owned))
    }

    /// Formatted text (a value's `Debug`, an error's `Display`) as a value,
    /// in a kept buffer when there is one.
    fn formatted(&mut self, text: fmt::Arguments<'_>) -> FieldValue {
        let mut owned = self.spare.pop().unwrap_or_default();
        let _ = owned.write_fmt(text);
        FieldValue::Str(Cow::Owned(owned))
    }

    /// Empty again; the buffers of its text values are kept for reuse.
    pub(crate) fn clear(&mut self) {
        for (_, value) in self.entries.drain(..) {
            if let FieldValue::Str(Cow::Owned(mut text)) = value
                && self.spare.len() < MAX_SPARE
                && text.capacity() <= MAX_SPARE_CAPACITY
            {
                text.clear();
                self.spare.push(text);
            }
        }
    }
}

/// An event's fields, collected into one reused per thread: `message` is
/// kept apart (empty when there is none).
#[derive(Default)]
pub(crate) struct FieldCollector {
    pub(crate) message: String,
    pub(crate) fields: SpanFields,
}

impl FieldCollector {
    pub(crate) const fn new() -> Self {
        FieldCollector {
            message: String::new(),
            fields: SpanFields::new(),
        }
    }

    /// Empty again, keeping its memory: one collector serves every event
    /// of a thread.
    pub(crate) fn clear(&mut self) {
        self.message.clear();
        self.fields.clear();
    }

    /// The visitor that fills it, redacting with `redactor`. A field named
    /// twice is kept twice: the formats write each key once, the last value
    /// (which they must do anyway, for a span field an event field
    /// shadows), so the collector does not look for an earlier one at every
    /// field of every event.
    pub(crate) fn visitor<'a>(&'a mut self, redactor: &'a Redactor) -> Collect<'a> {
        Collect {
            fields: &mut self.fields,
            message: Some(&mut self.message),
            replace: false,
            keys: FieldKeys::new(redactor),
            redactor,
        }
    }

    /// The message as collected, redacted by the value patterns.
    pub(crate) fn scrub_message(&mut self, redactor: &Redactor) {
        redactor.scrub_in_place(&mut self.message, Signal::Logs);
    }
}

/// A text value redacted by the value patterns and cut to the length
/// limit; other values as they are.
fn scrubbed(value: FieldValue, redactor: &Redactor) -> FieldValue {
    match value {
        FieldValue::Str(Cow::Owned(mut text)) => {
            scrub_text(&mut text, redactor);
            FieldValue::Str(Cow::Owned(text))
        }
        FieldValue::Str(Cow::Borrowed(text)) => {
            let mut owned = Cow::Borrowed(text);
            if let Some(scrubbed) = redactor.scrub(text, Signal::Logs) {
                owned = Cow::Owned(scrubbed);
            }
            if let Some(at) =
                crate::limits::value_length().and_then(|max| crate::limits::cut_at(&owned, max))
            {
                owned = Cow::Owned(owned[..at].to_owned());
            }
            FieldValue::Str(owned)
        }
        other => other,
    }
}

/// A field's text redacted by the value patterns, then cut to the length
/// limit (in that order: a cut secret would no longer match its pattern).
fn scrub_text(text: &mut String, redactor: &Redactor) {
    redactor.scrub_in_place(text, Signal::Logs);
    if let Some(max) = crate::limits::value_length() {
        crate::limits::truncate(text, max);
    }
}

/// Collects fields into a field list: an event's collector, or a span's
/// own list in its state, written in place, redacting as it goes (see the
/// module documentation). Left out: the `log.*` fields that `tracing-log`
/// adds (already in the normalised metadata), the `otel.*` fields that
/// steer the span itself, and a span's `message` (only an event's message
/// is kept, apart).
pub(crate) struct Collect<'a> {
    fields: &'a mut SpanFields,
    message: Option<&'a mut String>,
    /// A later value replaces an earlier one of the same key in the list
    /// (a span's, which lives on and is recorded again).
    replace: bool,
    /// Which field names are sensitive, decided once per callsite field.
    keys: FieldKeys<'a>,
    redactor: &'a Redactor,
}

impl<'a> Collect<'a> {
    /// Into a span's fields, where a later value replaces an earlier one.
    pub(crate) fn span(fields: &'a mut SpanFields, redactor: &'a Redactor) -> Self {
        Collect {
            fields,
            message: None,
            replace: true,
            keys: FieldKeys::new(redactor),
            redactor,
        }
    }

    /// Whether `field` is kept (see the type's documentation).
    fn kept(field: &Field) -> bool {
        let name = field.name();
        !name.starts_with("log.") && !name.starts_with("otel.")
    }

    /// Puts the replacement for `field`, whose name is sensitive, without
    /// ever formatting its value.
    fn put_redacted(&mut self, field: &Field) {
        let value = self.fields.text(self.redactor.key_redacted(Signal::Logs));
        self.store(field, value);
    }

    /// Whether `field` is a kept field with a sensitive name: then its
    /// replacement is put, and the caller puts nothing.
    #[inline]
    fn redacted(&mut self, field: &Field) -> bool {
        if field.name() == "message" || !Self::kept(field) || !self.keys.is_sensitive(field) {
            return false;
        }
        self.put_redacted(field);
        true
    }

    /// Puts a text value, redacted by the value patterns and cut.
    fn put_text(&mut self, field: &Field, mut value: FieldValue) {
        if let FieldValue::Str(Cow::Owned(text)) = &mut value {
            scrub_text(text, self.redactor);
        }
        self.store(field, value);
    }

    fn store(&mut self, field: &Field, value: FieldValue) {
        if self.replace {
            self.fields.set(Cow::Borrowed(field.name()), value);
        } else {
            self.fields.push(Cow::Borrowed(field.name()), value);
        }
    }

    fn put(&mut self, field: &Field, value: FieldValue) {
        let name = field.name();
        if name == "message" {
            if let Some(message) = self.message.as_deref_mut() {
                message.clear();
                let _ = write!(message, "{value}");
            }
        } else if Self::kept(field) && !self.redacted(field) {
            self.store(field, value);
        }
    }
}

impl Visit for Collect<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            if let Some(message) = self.message.as_deref_mut() {
                message.clear();
                message.push_str(value);
            }
            return;
        }
        if Self::kept(field) && !self.redacted(field) {
            let value = self.fields.text(value);
            self.put_text(field, value);
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // The message of every event comes here: format it once, straight
        // into its string.
        if field.name() == "message" {
            if let Some(message) = self.message.as_deref_mut() {
                message.clear();
                let _ = write!(message, "{value:?}");
            }
            return;
        }
        if Self::kept(field) && !self.redacted(field) {
            let value = self.fields.formatted(format_args!("{value:?}"));
            self.put_text(field, value);
        }
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, FieldValue::I64(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, FieldValue::U64(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, FieldValue::F64(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, FieldValue::Bool(value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if Self::kept(field) && !self.redacted(field) {
            let value = self.fields.formatted(format_args!("{value}"));
            self.put_text(field, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_at(fields: &SpanFields, i: usize) -> (&str, usize) {
        match &fields.as_slice()[i].1 {
            FieldValue::Str(Cow::Owned(text)) => (text.as_str(), text.capacity()),
            other => panic!("owned text expected, got {other:?}"),
        }
    }

    #[test]
    fn cleared_text_buffers_are_reused_and_large_ones_let_go() {
        let mut fields = SpanFields::new();
        let value = fields.text("9e5350f5111ab8a8f4a59419e03fb26e");
        fields.push(Cow::Borrowed("request_id"), value);
        let big = fields.text(&"x".repeat(MAX_SPARE_CAPACITY + 1));
        fields.push(Cow::Borrowed("body"), big);
        fields.push(Cow::Borrowed("status"), FieldValue::U64(200));
        let (_, capacity) = text_at(&fields, 0);
        fields.clear();
        assert!(fields.as_slice().is_empty());
        assert_eq!(fields.spare.len(), 1, "the large buffer is not kept");

        let value = fields.text("/orders/42");
        fields.push(Cow::Borrowed("path"), value);
        assert_eq!(
            text_at(&fields, 0),
            ("/orders/42", capacity),
            "the kept buffer"
        );
        assert!(fields.spare.is_empty());
        let value = fields.text("fresh");
        fields.set(Cow::Borrowed("user_id"), value);
        assert_eq!(text_at(&fields, 1).0, "fresh");

        for _ in 0..2 * MAX_SPARE {
            let value = fields.text("t");
            fields.push(Cow::Borrowed("k"), value);
        }
        fields.clear();
        assert_eq!(fields.spare.len(), MAX_SPARE);
    }
}
