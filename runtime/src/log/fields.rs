//! Fields that log lines carry: those of the event, and those of every
//! enclosing span (declared ones, recorded later ones, and ones added at run
//! time through [`crate::tag`] / [`crate::log_context`]).

use std::borrow::Cow;
use std::fmt::{self, Write as _};

use smallvec::SmallVec;
use tracing_core::field::{Field, Visit};

use crate::value::FieldValue;

pub(crate) type Key = Cow<'static, str>;

/// A span's fields as log lines see them, in its `SpanState`. Held inline
/// up to four (a request span's log context is three or four): the span
/// state's own allocation is then the only one.
#[derive(Debug, Default)]
pub(crate) struct SpanFields(pub(crate) SmallVec<[(Key, FieldValue); 4]>);

impl SpanFields {
    /// Sets a field, replacing an earlier value of the same key.
    pub(crate) fn set(&mut self, key: Key, value: FieldValue) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key, value)),
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
            fields: SpanFields(SmallVec::new_const()),
        }
    }

    /// Empty again, keeping its memory: one collector serves every event
    /// of a thread.
    pub(crate) fn clear(&mut self) {
        self.message.clear();
        self.fields.0.clear();
    }

    /// The visitor that fills it. A field named twice is kept twice: the
    /// formats write each key once, the last value (which they must do
    /// anyway, for a span field an event field shadows), so the collector
    /// does not look for an earlier one at every field of every event.
    pub(crate) fn visitor(&mut self) -> Collect<'_> {
        Collect {
            fields: &mut self.fields,
            message: Some(&mut self.message),
            replace: false,
        }
    }
}

/// Collects fields into a field list: an event's collector, or a span's
/// own list in its state, written in place. Left out: the `log.*` fields
/// that `tracing-log` adds (already in the normalised metadata), the
/// `otel.*` fields that steer the span itself, and a span's `message`
/// (only an event's message is kept, apart).
pub(crate) struct Collect<'a> {
    fields: &'a mut SpanFields,
    message: Option<&'a mut String>,
    /// A later value replaces an earlier one of the same key in the list
    /// (a span's, which lives on and is recorded again).
    replace: bool,
}

impl<'a> Collect<'a> {
    /// Into a span's fields, where a later value replaces an earlier one.
    pub(crate) fn span(fields: &'a mut SpanFields) -> Self {
        Collect {
            fields,
            message: None,
            replace: true,
        }
    }

    fn put(&mut self, field: &Field, value: FieldValue) {
        let name = field.name();
        if name == "message" {
            if let Some(message) = self.message.as_deref_mut() {
                message.clear();
                let _ = write!(message, "{value}");
            }
        } else if !name.starts_with("log.") && !name.starts_with("otel.") {
            if self.replace {
                self.fields.set(Cow::Borrowed(name), value);
            } else {
                self.fields.0.push((Cow::Borrowed(name), value));
            }
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
        self.put(field, FieldValue::Str(Cow::Owned(value.to_owned())));
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
        self.put(field, FieldValue::Str(Cow::Owned(format!("{value:?}"))));
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
        self.put(field, FieldValue::Str(Cow::Owned(value.to_string())));
    }
}
