//! Access to the current span's o11y state from outside the subscriber:
//! the ids for correlation, and the context API's writes.
//!
//! Works whenever the active subscriber is built on
//! `tracing_subscriber::Registry` (as `init()` and every `layer()`
//! composition are): the dispatcher is downcast to the registry, which owns
//! the span extensions.

use opentelemetry::trace::{SpanId, TraceId, TraceState};
use tracing_subscriber::Registry;
use tracing_subscriber::registry::{ExtensionsMut, LookupSpan, SpanRef};

use super::SpanState;

/// The W3C ids of a span, as lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanIds {
    /// 32 hex digits.
    pub trace_id: String,
    /// 16 hex digits.
    pub span_id: String,
    /// Whether the span is sampled (recorded and exported).
    pub sampled: bool,
}

/// Runs `f` on the current span, if there is one and the subscriber is o11y's.
pub(crate) fn with_current_span<R>(f: impl FnOnce(&SpanRef<'_, Registry>) -> R) -> Option<R> {
    let mut f = Some(f);
    tracing::dispatcher::get_default(|dispatch| {
        let registry = dispatch.downcast_ref::<Registry>()?;
        let current = dispatch.current_span();
        let span = registry.span(current.id()?)?;
        f.take().map(|f| f(&span))
    })
}

/// Runs `f` on the extensions of `span`, if it exists and the subscriber
/// is o11y's (built on the registry).
pub(crate) fn with_span_extensions<R>(
    span: &tracing::Span,
    f: impl FnOnce(&mut ExtensionsMut<'_>) -> R,
) -> Option<R> {
    span.with_subscriber(|(id, dispatch)| {
        let registry = dispatch.downcast_ref::<Registry>()?;
        let span = registry.span(id)?;
        Some(f(&mut span.extensions_mut()))
    })
    .flatten()
}

/// Runs `f` on the current span's state, if there is a current span and
/// o11y's span layer saw it.
pub(crate) fn with_current_state<R>(f: impl FnOnce(&mut SpanState) -> R) -> Option<R> {
    with_current_span(|span| span.extensions_mut().get_mut::<SpanState>().map(f)).flatten()
}

/// Runs `f` on the state of the nearest span, from the current one
/// outwards, whose state is `wanted` (as the request span an HTTP server
/// marks).
pub(crate) fn with_enclosing_state<R>(
    wanted: impl Fn(&SpanState) -> bool,
    f: impl FnOnce(&mut SpanState) -> R,
) -> Option<R> {
    with_current_span(|current| {
        let span = current
            .scope()
            .find(|span| span.extensions().get::<SpanState>().is_some_and(&wanted))?;
        let mut extensions = span.extensions_mut();
        extensions.get_mut::<SpanState>().map(f)
    })
    .flatten()
}

/// The ids of the current span, for correlating with other systems (an
/// error page, a response header). `None` outside any span, or when o11y is
/// not the active subscriber.
///
/// ```
/// assert_eq!(o11y_runtime::trace::current_span_ids(), None);
/// ```
pub fn current_span_ids() -> Option<SpanIds> {
    current_ids().map(|(trace_id, span_id, sampled)| SpanIds {
        trace_id: trace_id.to_string(),
        span_id: span_id.to_string(),
        sampled,
    })
}

/// The ids and sampled flag of the current span, without formatting them.
pub(crate) fn current_ids() -> Option<(TraceId, SpanId, bool)> {
    with_current_span(|span| {
        span.extensions()
            .get::<SpanState>()
            .map(|state| (state.trace_id, state.span_id, state.sampled))
    })
    .flatten()
}

/// The W3C `tracestate` the current trace arrived with, from the nearest
/// enclosing span that continued it from another process (see
/// [`SpanState::carried_trace_state`]); `None` when the trace started here or its caller
/// sent no state.
pub(crate) fn current_trace_state() -> Option<TraceState> {
    with_enclosing_state(
        |state| state.carried_trace_state.is_some(),
        |state| state.carried_trace_state.clone(),
    )
    .flatten()
    .filter(|state| *state != TraceState::NONE)
}
