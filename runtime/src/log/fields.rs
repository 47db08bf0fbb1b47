//! Fields that log lines carry: those of the event, and those of every
//! enclosing span (declared ones, recorded later ones, and ones added at run
//! time through [`crate::tag`] / [`crate::log_context`]).
//!
//! This is where a line's fields are redacted. A field whose name is
//! sensitive is replaced as it is collected (the secret is never kept);
//! text goes through the value patterns and the length limit once, at the
//! first line that carries it ([`Entry::shown`]): a span's fields when a
//! line is written inside it (a span that no line is written in never pays
//! for it), an event's with its line. Every sink (the console, JSON on
//! standard output, the file, OTLP records) and every later line then use
//! the same scrubbed value. An event's message is scanned as it is
//! collected.

use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use smallvec::SmallVec;
use tracing_core::field::{Field, Visit};

use crate::redact::{Redactor, Signal};
use crate::value::FieldValue;

pub(crate) type Key = Cow<'static, str>;

/// One field of a span or an event: its value as collected (a sensitive
/// name's already replaced) and, once a line has carried it, its value as
/// lines show it.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) key: Key,
    pub(crate) value: FieldValue,
    /// The value was looked at and is shown as it is (most are): a flag,
    /// rather than an empty `scrubbed`, since filling a `OnceLock` costs
    /// several times a scan of a short text.
    clean: AtomicBool,
    /// The value as lines show it, when that differs. Both are decided
    /// once and read concurrently by the lines of the span's threads.
    scrubbed: OnceLock<FieldValue>,
}

impl Entry {
    pub(crate) fn new(key: Key, value: FieldValue) -> Self {
        Entry {
            key,
            value,
            clean: AtomicBool::new(false),
            scrubbed: OnceLock::new(),
        }
    }

    /// The value as lines show it: text redacted by the value patterns,
    /// then cut to the length limit (in that order: a cut secret would no
    /// longer match its pattern), at the first line that carries it.
    #[inline]
    pub(crate) fn shown(&self, redactor: &Redactor) -> &FieldValue {
        let FieldValue::Str(text) = &self.value else {
            return &self.value;
        };
        if self.clean.load(Ordering::Relaxed) {
            return &self.value;
        }
        if let Some(scrubbed) = self.scrubbed.get() {
            return scrubbed;
        }
        match scrubbed(text, redactor) {
            // Two lines at once may both look: they find the same.
            None => {
                self.clean.store(true, Ordering::Relaxed);
                &self.value
            }
            Some(text) => self
                .scrubbed
                .get_or_init(|| FieldValue::Str(Cow::Owned(text))),
        }
    }
}

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
    entries: SmallVec<[Entry; 4]>,
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
    pub(crate) fn as_slice(&self) -> &[Entry] {
        &self.entries
    }

    /// Sets a field, replacing an earlier value of the same key.
    pub(crate) fn set(&mut self, key: Key, value: FieldValue) {
        match self.entries.iter_mut().find(|entry| entry.key == key) {
            Some(slot) => *slot = Entry::new(key, value),
            None => self.entries.push(Entry::new(key, value)),
        }
    }

    /// Sets a field given at run time (the context API, `set_user`), its
    /// whole value replaced when `key` is sensitive, as a collected field's
    /// is (its text is scrubbed at the first line, as every field's).
    pub(crate) fn set_redacted(&mut self, key: Key, value: FieldValue, redactor: &Redactor) {
        let value = if redactor.is_sensitive_key(&key) {
            self.text(redactor.key_redacted(Signal::Logs))
        } else {
            value
        };
        self.set(key, value);
    }

    /// Adds a field, even when one of the same key is there (see
    /// [`FieldCollector::visitor`]).
    pub(crate) fn push(&mut self, key: Key, value: FieldValue) {
        self.entries.push(Entry::new(key, value));
    }

    /// [`push`](Self::push)es a field whose text o11y made itself (an id it
    /// generated, a method name): nothing in it to redact, so no line scans
    /// it (it is still cut to the length limit, as every field is).
    #[cfg_attr(not(feature = "axum"), allow(dead_code))]
    pub(crate) fn push_clean(&mut self, key: Key, value: FieldValue) {
        let entry = Entry::new(key, value);
        let short = match &entry.value {
            FieldValue::Str(text) => crate::limits::value_length()
                .is_none_or(|max| crate::limits::cut_at(text, max).is_none()),
            _ => true,
        };
        entry.clean.store(short, Ordering::Relaxed);
        self.entries.push(entry);
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
        for entry in self.entries.drain(..) {
            if let FieldValue::Str(Cow::Owned(mut text)) = entry.value
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
            redactor,
        }
    }

    /// The message as collected, redacted by the value patterns.
    pub(crate) fn scrub_message(&mut self, redactor: &Redactor) {
        redactor.scrub_in_place(&mut self.message, Signal::Logs);
    }
}

/// `text` redacted by the value patterns, then cut to the length limit;
/// `None` when it stays as it is.
fn scrubbed(text: &str, redactor: &Redactor) -> Option<String> {
    let redacted = redactor.scrub(text, Signal::Logs);
    let current = redacted.as_deref().unwrap_or(text);
    match crate::limits::value_length().and_then(|max| crate::limits::cut_at(current, max)) {
        Some(at) => Some(current[..at].to_owned()),
        None => redacted,
    }
}

/// Collects fields into a field list: an event's collector, or a span's
/// own list in its state, written in place, replacing the values of
/// sensitive names (see the module documentation). Left out: the `log.*` fields that `tracing-log`
/// adds (already in the normalised metadata), the `otel.*` fields that
/// steer the span itself, and a span's `message` (only an event's message
/// is kept, apart).
pub(crate) struct Collect<'a> {
    fields: &'a mut SpanFields,
    message: Option<&'a mut String>,
    /// A later value replaces an earlier one of the same key in the list
    /// (a span's, which lives on and is recorded again).
    replace: bool,
    /// Whose key rule decides which names are sensitive (once per name).
    redactor: &'a Redactor,
}

impl<'a> Collect<'a> {
    /// Into a span's fields, where a later value replaces an earlier one.
    pub(crate) fn span(fields: &'a mut SpanFields, redactor: &'a Redactor) -> Self {
        Collect {
            fields,
            message: None,
            replace: true,
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

    /// Whether `field` (a kept one, not the message) has a sensitive name:
    /// then its replacement is put, and the caller puts nothing.
    #[inline]
    fn redacted(&mut self, field: &Field) -> bool {
        if !self.redactor.is_sensitive_field(field) {
            return false;
        }
        self.put_redacted(field);
        true
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
            self.store(field, value);
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
            self.store(field, value);
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
            self.store(field, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_at(fields: &SpanFields, i: usize) -> (&str, usize) {
        match &fields.as_slice()[i].value {
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
