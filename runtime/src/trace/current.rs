//! Access to the current span's o11y state from outside the subscriber:
//! the ids for correlation, and the context API's writes.
//!
//! Works whenever o11y is the active subscriber (`init()`'s) or a layer of
//! it over `tracing_subscriber::Registry` (every `layer()` composition):
//! the dispatcher is downcast to whichever of the two keeps the state.

use opentelemetry::trace::{SpanId, TraceId, TraceState};
use tracing::Dispatch;
use tracing_core::span::Id;
use tracing_subscriber::Registry;
use tracing_subscriber::registry::LookupSpan;

use super::{SpanState, WithState};
use crate::subscriber::O11ySubscriber;

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

/// Where the active subscriber keeps o11y's span state.
#[derive(Clone, Copy)]
pub(crate) enum Spans<'a> {
    /// The subscriber `init()` installs: the state inline in its span slots.
    Own(&'a O11ySubscriber),
    /// A `tracing-subscriber` stack (what [`crate::layer`] composes): the
    /// state in the registry's span extensions.
    Registry(&'a Registry),
}

impl<'a> Spans<'a> {
    /// The span store of `dispatch`; `None` when o11y is not in it.
    #[inline]
    pub(crate) fn of(dispatch: &'a Dispatch) -> Option<Self> {
        if let Some(own) = dispatch.downcast_ref::<O11ySubscriber>() {
            return Some(Spans::Own(own));
        }
        dispatch.downcast_ref::<Registry>().map(Spans::Registry)
    }

    /// The id of the current span. `init()`'s subscriber reads it from its
    /// own stack: `Dispatch::current_span` would also look the span up,
    /// for metadata nobody here reads.
    #[inline]
    pub(crate) fn current_id(self, dispatch: &Dispatch) -> Option<Id> {
        match self {
            Spans::Own(own) => own.current_id(),
            Spans::Registry(_) => dispatch.current_span().id().cloned(),
        }
    }

    /// Runs `f` on the state of span `id`, if o11y keeps one for it.
    #[inline]
    pub(crate) fn with_state<R>(self, id: &Id, f: impl FnOnce(&mut SpanState) -> R) -> Option<R> {
        match self {
            Spans::Own(own) => own.with_state(id, f),
            Spans::Registry(registry) => registry.span(id)?.with_state(f),
        }
    }

    /// Runs `f` on the state of the nearest span, from span `id` outwards,
    /// whose state is `wanted`.
    pub(crate) fn with_enclosing_state<R>(
        self,
        id: &Id,
        wanted: impl Fn(&SpanState) -> bool,
        f: impl FnOnce(&mut SpanState) -> R,
    ) -> Option<R> {
        match self {
            Spans::Own(own) => own.with_enclosing_state(id, wanted, f),
            Spans::Registry(registry) => {
                let span = registry
                    .span(id)?
                    .scope()
                    .find(|span| span.extensions().get::<SpanState>().is_some_and(&wanted))?;
                span.with_state(f)
            }
        }
    }
}

/// Runs `f` on the store of the active subscriber and the current span, if
/// there is one and the subscriber is o11y's.
#[inline]
fn with_current<R>(f: impl FnOnce(Spans<'_>, &Id) -> Option<R>) -> Option<R> {
    let mut f = Some(f);
    tracing::dispatcher::get_default(|dispatch| {
        let spans = Spans::of(dispatch)?;
        let current = spans.current_id(dispatch)?;
        f.take().and_then(|f| f(spans, &current))
    })
}

/// Runs `f` on the state of `span`, if it exists and o11y keeps its state.
pub(crate) fn with_span_state<R>(
    span: &tracing::Span,
    f: impl FnOnce(&mut SpanState) -> R,
) -> Option<R> {
    span.with_subscriber(|(id, dispatch)| Spans::of(dispatch)?.with_state(id, f))
        .flatten()
}

/// Runs `f` on the current span's state, if there is a current span and
/// o11y's span layer saw it.
pub(crate) fn with_current_state<R>(f: impl FnOnce(&mut SpanState) -> R) -> Option<R> {
    with_current(|spans, id| spans.with_state(id, f))
}

/// Runs `f` on the state of the nearest span, from the current one
/// outwards, whose state is `wanted` (as the request span an HTTP server
/// marks).
pub(crate) fn with_enclosing_state<R>(
    wanted: impl Fn(&SpanState) -> bool,
    f: impl FnOnce(&mut SpanState) -> R,
) -> Option<R> {
    with_current(|spans, id| spans.with_enclosing_state(id, wanted, f))
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
    with_current_state(|state| (state.trace_id, state.span_id, state.sampled))
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
