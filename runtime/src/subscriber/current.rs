//! Access to a span's o11y state from outside the subscriber (the
//! integrations, the context API): the ids for correlation, decisions for
//! spans about to be created, and writes to a span's recording.
//!
//! Works whenever o11y is the active subscriber (`init()`'s) or its stages
//! are layers over `tracing_subscriber::Registry` (every `layer()`
//! composition): the dispatcher is downcast to whichever of the two keeps
//! the state.

use std::borrow::Cow;

use opentelemetry::KeyValue;
use opentelemetry::trace::{Link, SpanContext, SpanId, TraceId};
use tracing::Dispatch;
use tracing_core::span::Id;
use tracing_subscriber::Registry;
use tracing_subscriber::registry::LookupSpan;

use super::layered::SpanStage;
use super::{O11ySubscriber, SpanState, WithState};
use crate::trace::decide::Decision;
use crate::trace::exception::Exception;
use crate::trace::finished::{self, FinishedSpan};
use crate::trace::w3c::{RemoteParent, TraceState};
use crate::trace::{Ids, Recording, SpanLayer};

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

/// The ids and trace flags of the current span, without formatting them.
pub(crate) fn current_ids() -> Option<Ids> {
    with_current_state(|state| state.trace.as_parent())
}

/// The W3C `tracestate` the current trace arrived with, from the nearest
/// enclosing span that continued it from another process (see
/// `trace::SpanState::carried_trace_state`); `None` when the trace started
/// here or its caller sent no state.
pub(crate) fn current_trace_state() -> Option<TraceState> {
    with_enclosing_state(
        |state| state.trace.carried_trace_state.is_some(),
        |state| state.trace.carried_trace_state.clone(),
    )
    .flatten()
    .filter(|state| !state.is_empty())
}

/// The ids of the current span when it is sampled: what an exemplar links
/// to (registered with the metrics as their source of exemplars).
pub(crate) fn sampled_span() -> Option<(TraceId, SpanId)> {
    current_ids().and_then(|ids| ids.sampled.then_some((ids.trace_id, ids.span_id)))
}

/// o11y's span stage in `dispatch`: that of `init()`'s subscriber, or the
/// stage's layer in a `tracing-subscriber` stack.
#[inline]
pub(crate) fn span_layer(dispatch: &Dispatch) -> Option<&SpanLayer> {
    match dispatch.downcast_ref::<O11ySubscriber>() {
        Some(own) => Some(own.span_layer()),
        None => dispatch.downcast_ref::<SpanStage>().map(SpanStage::stage),
    }
}

/// Decides for a span that would be created now, as a child of the current
/// span. `None` when o11y's span stage is not in the active subscriber.
pub(crate) fn decide() -> Option<Decision> {
    tracing::dispatcher::get_default(|dispatch| {
        // Under `init()`'s subscriber one downcast finds both.
        let spans = Spans::of(dispatch);
        let layer = match spans {
            Some(Spans::Own(own)) => own.span_layer(),
            _ => dispatch.downcast_ref::<SpanStage>()?.stage(),
        };
        let parent = spans.and_then(|spans| {
            let current = spans.current_id(dispatch)?;
            spans.with_state(&current, |state| state.trace.as_parent())
        });
        Some(layer.decide(parent))
    })
}

/// Decides for a span that continues the trace of `parent`, a span of
/// another process (read from a W3C `traceparent`, valid by construction).
/// `None` when o11y's span stage is not in the active subscriber.
pub(crate) fn decide_with_remote_parent(parent: &RemoteParent) -> Option<Decision> {
    tracing::dispatcher::get_default(|dispatch| Some(span_layer(dispatch)?.decide_remote(parent)))
}

/// Exports `span`, a span that is over before o11y heard of it (a query
/// reported with its duration), as a child of the current span, with the
/// sampler and sink of the active subscriber's span stage; outside any
/// span, as a root of its own only with `as_root`. Nothing happens when
/// o11y is not the active subscriber.
pub(crate) fn export_in_current(span: FinishedSpan, as_root: bool) {
    let parent = with_current_state(|state| finished::Parent::of(&state.trace));
    let mut pending = Some((span, parent));
    tracing::dispatcher::get_default(|dispatch| {
        if let (Some(layer), Some((span, parent))) = (span_layer(dispatch), pending.take()) {
            finished::export(&layer.sampler, layer.sink.as_deref(), parent, as_root, span);
        }
    });
}

/// Runs `f` on the recording of `span`; `None` (and `f` not called) when
/// the span is not recorded, or the subscriber is not o11y's.
pub(crate) fn with_recording<R>(
    span: &tracing::Span,
    f: impl FnOnce(&mut Recording) -> R,
) -> Option<R> {
    with_span_state(span, |state| state.trace.recording.as_deref_mut().map(f)).flatten()
}

/// Adds a link to `context` (a span of another trace or process) to
/// `span`. A no-op for a span that is not recorded.
pub(crate) fn add_link(span: &tracing::Span, context: SpanContext) {
    with_recording(span, |recording| {
        recording.add_link(Link::with_context(context));
    });
}

/// Keeps `trace_state`, the W3C `tracestate` of the trace `span` belongs
/// to as it arrived from another process, on `span`: on its recording
/// (exported with its span context) and in its state (see
/// `trace::SpanState::carried_trace_state`), recorded or not. An empty
/// state is kept too, so that a span continuing a remote trace without
/// state does not hand on the state of an enclosing span of another trace.
pub(crate) fn keep_trace_state(span: &tracing::Span, trace_state: TraceState) {
    with_span_state(span, |state| {
        if let Some(recording) = state.trace.recording.as_mut() {
            recording.set_trace_state(trace_state.clone());
        }
        state.trace.carried_trace_state = Some(trace_state);
    });
}

/// Sets attributes on a span, replacing earlier ones of the same keys. A
/// no-op for a span that is not recorded.
pub(crate) fn set_attributes(span: &tracing::Span, attributes: Vec<KeyValue>) {
    with_recording(span, |recording| {
        for attribute in attributes {
            recording.set_attribute(attribute);
        }
    });
}

/// Marks a span as failed: status error and an `error.type` attribute (and
/// `error.message` when given). A no-op for a span that is not recorded.
pub(crate) fn set_error(span: &tracing::Span, error_type: &str, message: Option<String>) {
    with_recording(span, |recording| {
        recording.set_error(Cow::Owned(error_type.to_owned()), message);
    });
}

/// Records a failure on `span`: the `exception` event (unless `span` is
/// the one whose id is `recorded_in`, which has it already), `error.type`
/// and status error (keeping a message set earlier). Returns the span's
/// trace and span ids, recorded or not; `None` when o11y keeps no state
/// for it.
pub(crate) fn record_failure(
    span: &tracing::Span,
    exception: &Exception<'_>,
    recorded_in: Option<SpanId>,
) -> Option<(TraceId, SpanId)> {
    with_span_state(span, |state| {
        let ids = (state.trace.trace_id, state.trace.span_id);
        if let Some(recording) = state.trace.recording.as_mut() {
            if recorded_in != Some(ids.1) {
                recording.add_exception(exception);
            }
            recording.set_error(Cow::Owned(exception.error_type.to_owned()), None);
        }
        ids
    })
}

/// Where a failure happened, as an error tracker is told (see
/// `lifecycle::failure`).
#[cfg(feature = "sentry")]
#[derive(Debug, Default)]
pub(crate) struct FailureScope {
    /// The failing span's trace and span ids.
    pub(crate) ids: Option<(TraceId, SpanId)>,
    /// The failing span's name: its recording's, else its callsite's.
    pub(crate) name: Option<String>,
    /// The nearest `request_id` log field, from the span outwards.
    pub(crate) request_id: Option<String>,
    /// The name of the request the failure happened in, from the span
    /// outwards: its recording's (`GET /orders/{id}`), else its method and
    /// path log fields.
    pub(crate) request: Option<String>,
}

/// The [`FailureScope`] of `span`; of the current span when `span` is
/// none (an operation that did not need one of its own fails inside its
/// caller's). Empty when o11y keeps no state for it.
#[cfg(feature = "sentry")]
pub(crate) fn failure_scope(span: &tracing::Span) -> FailureScope {
    tracing::dispatcher::get_default(|dispatch| {
        let Some(spans) = Spans::of(dispatch) else {
            return FailureScope::default();
        };
        let (id, metadata) = match span.id() {
            Some(id) => (id, span.metadata()),
            None => {
                let Some(id) = spans.current_id(dispatch) else {
                    return FailureScope::default();
                };
                (id, dispatch.current_span().metadata())
            }
        };
        let recorded_name = |state: &SpanState| {
            let recording = state.trace.recording.as_ref()?;
            Some(recording.name.clone()?.into_owned())
        };
        let Some((ids, name)) = spans.with_state(&id, |state| {
            let trace = &state.trace;
            ((trace.trace_id, trace.span_id), recorded_name(state))
        }) else {
            return FailureScope::default();
        };
        let field = |state: &SpanState, key: &str| {
            let fields = state.fields.as_slice();
            let entry = fields.iter().find(|entry| entry.key == key)?;
            Some(entry.value.to_string())
        };
        let (request_id, request) = spans
            .with_enclosing_state(
                &id,
                |state| {
                    let fields = state.fields.as_slice();
                    fields.iter().any(|entry| entry.key == "request_id")
                },
                |state| {
                    let method_and_path = || {
                        Some(format!(
                            "{} {}",
                            field(state, "http.method")?,
                            field(state, "path")?
                        ))
                    };
                    let request = recorded_name(state).or_else(method_and_path);
                    (field(state, "request_id"), request)
                },
            )
            .unwrap_or_default();
        FailureScope {
            ids: Some(ids),
            name: name.or_else(|| metadata.map(|metadata| metadata.name().to_owned())),
            request_id,
            request,
        }
    })
}
