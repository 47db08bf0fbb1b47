//! What the db module needs of spans it holds only as `tracing::Span`
//! handles (a scope's span) or of the current span: where o11y keeps a
//! span's state is the subscriber's business, a layer above this one, so
//! the subscriber hands these functions over when it is built.
//!
//! Without a subscriber of o11y's, nothing is registered and each use is a
//! no-op, as it would be with any other subscriber.

use std::sync::OnceLock;

use opentelemetry::KeyValue;

use super::pending::Waiting;
use crate::trace::finished::FinishedSpan;

/// What runs on the queries waiting on a span.
pub(crate) type WaitingVisitor<'a> = dyn FnMut(&mut Waiting) + 'a;

/// The subscriber's span access, for this module.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SpanAccess {
    /// Sets attributes on a span's recording (a scope's N+1 report).
    pub(crate) set_attributes: fn(&tracing::Span, Vec<KeyValue>),
    /// Runs the function on the queries waiting on a span.
    pub(crate) with_waiting: fn(&tracing::Span, &mut WaitingVisitor<'_>),
    /// Exports a span that is over as a child of the current span; outside
    /// any span, as a root only when the second argument says so.
    pub(crate) export_in_current: fn(FinishedSpan, bool),
}

static ACCESS: OnceLock<SpanAccess> = OnceLock::new();

/// Registers the subscriber's span access; the first registration stays
/// (every o11y subscriber registers the same functions).
pub(crate) fn register(access: SpanAccess) {
    let _ = ACCESS.get_or_init(|| access);
}

/// The registered access, if an o11y subscriber was ever built.
#[inline]
pub(super) fn access() -> Option<&'static SpanAccess> {
    ACCESS.get()
}
