//! The context API: attach a key/value to the current span, its log lines,
//! or both, at run time, without declaring the field up front; read the
//! current span's ids; mark a span failed.
//!
//! Each call is a no-op outside a span or when o11y is not the active
//! subscriber; the value then has nowhere to live. Values are redacted as
//! every other field is: a sensitive key replaces the whole value, and
//! text goes through the value patterns (for log lines here, for spans on
//! the export thread).

use std::borrow::Cow;

use opentelemetry::{Key, KeyValue};

use crate::redact::{self, Redactor, Signal};
use crate::subscriber::current::{current_ids, with_current_state};
use crate::trace::SpanIds;
use crate::value::FieldValue;

/// Sets `key = value` as an attribute of the current span AND as a field of
/// every later log line inside it (including its child spans).
///
/// ```
/// #[tracing::instrument]
/// fn checkout(cart_id: u64) {
///     o11y_runtime::tag("customer.tier", "gold");
///     tracing::info!("checking out"); // carries customer.tier="gold"
/// }
/// # checkout(1);
/// ```
pub fn tag(key: impl Into<Cow<'static, str>>, value: impl Into<FieldValue>) {
    let (key, value) = (key.into(), value.into());
    let redactor = redact::active();
    with_current_state(|state| {
        if let Some(recording) = state.trace.recording.as_mut() {
            recording.set_attribute(attribute(redactor, key.clone(), value.clone()));
        }
        state.fields.set_redacted(key, value, redactor);
    });
}

/// `key = value` as a span attribute, the whole value replaced when `key`
/// is sensitive (its text is scrubbed on the export thread).
fn attribute(redactor: &Redactor, key: Cow<'static, str>, value: FieldValue) -> KeyValue {
    if redactor.is_sensitive_key(&key) {
        let replacement = redactor.key_redacted(Signal::Traces).to_owned();
        return KeyValue::new(Key::from(key), replacement);
    }
    KeyValue::new(Key::from(key), value)
}

/// Sets `key = value` on the current span only (exported with the span, not
/// written to log lines).
pub fn span_attribute(key: impl Into<Cow<'static, str>>, value: impl Into<FieldValue>) {
    let (key, value) = (key.into(), value.into());
    with_current_state(|state| {
        if let Some(recording) = state.trace.recording.as_mut() {
            recording.set_attribute(attribute(redact::active(), key, value));
        }
    });
}

/// Adds `key = value` to every later log line of the current span (and its
/// child spans), without making it a span attribute.
pub fn log_context(key: impl Into<Cow<'static, str>>, value: impl Into<FieldValue>) {
    let (key, value) = (key.into(), value.into());
    let redactor = redact::active();
    with_current_state(|state| state.fields.set_redacted(key, value, redactor));
}
/// The ids of the current span, for correlating with other systems (an
/// error page, a response header). `None` outside any span, or when o11y is
/// not the active subscriber.
///
/// ```
/// assert_eq!(o11y_runtime::context::current_span_ids(), None);
/// ```
pub fn current_span_ids() -> Option<SpanIds> {
    current_ids().map(|ids| SpanIds {
        trace_id: ids.trace_id.to_string(),
        span_id: ids.span_id.to_string(),
        sampled: ids.sampled,
    })
}

/// Marks a span as failed: status error and an `error.type` attribute (and
/// `error.message` when given). A no-op for a span that is not recorded.
pub fn set_error(span: &tracing::Span, error_type: &str, message: Option<String>) {
    crate::subscriber::current::set_error(span, error_type, message);
}
