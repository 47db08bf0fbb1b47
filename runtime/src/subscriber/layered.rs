//! The stages as `tracing-subscriber` layers, for a subscriber of the
//! application's own ([`crate::layer`]): o11y's state of a span is one
//! extension of the registry's span, created by the span stage (first in
//! the stack) and read by the others. Each adapter hands its stage only
//! that stage's part of the state.

use smallvec::SmallVec;
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::{Event, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::{Extensions, LookupSpan, SpanRef};

use super::{SpanState, WithState};
use crate::db;
use crate::export_thread::is_export_thread;
use crate::log::{LogLayer, SpanFields};
use crate::trace::SpanLayer;

/// The span stage in a layer stack; o11y's own instrumentation finds its
/// sampler through it (`Dispatch::downcast_ref`).
#[derive(Debug)]
pub(crate) struct SpanStage(SpanLayer);

impl SpanStage {
    pub(crate) fn new(stage: SpanLayer) -> Self {
        super::register_hooks();
        SpanStage(stage)
    }

    pub(crate) fn stage(&self) -> &SpanLayer {
        &self.0
    }
}

impl<S> Layer<S> for SpanStage
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if is_export_thread() {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        let mut state = SpanState::empty();
        match span.parent() {
            Some(parent) => {
                let extensions = parent.extensions();
                let parent = extensions.get::<SpanState>().map(|state| &state.trace);
                self.0.open_into(attrs, parent, &mut state.trace);
            }
            None => self.0.open_into(attrs, None, &mut state.trace),
        }
        span.extensions_mut().insert(state);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            span.with_state(|state| self.0.record(&mut state.trace, values));
        }
    }

    fn on_follows_from(&self, id: &Id, follows: &Id, ctx: Context<'_, S>) {
        let (Some(span), Some(follows)) = (ctx.span(id), ctx.span(follows)) else {
            return;
        };
        // One lock at a time: a span may follow from itself.
        if let Some(follows) = follows.with_state(|state| state.trace.span_context()) {
            span.with_state(|state| SpanLayer::follows_from(&mut state.trace, follows));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if !SpanLayer::wants_event(event) || db::only_for_bridge(event.metadata()) {
            return;
        }
        let Some(span) = ctx.event_span(event) else {
            return;
        };
        span.with_state(|state| self.0.event(&mut state.trace, event));
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(&id) {
            span.with_state(|state| self.0.close(&mut state.trace));
        }
    }
}

/// The db bridge in a layer stack.
#[derive(Debug)]
pub(crate) struct DbStage(db::Bridge);

impl DbStage {
    pub(crate) fn new(stage: db::Bridge) -> Self {
        DbStage(stage)
    }
}

impl<S> Layer<S> for DbStage
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if !db::Bridge::wants_event(event) {
            return;
        }
        self.0.event(event, ctx.event_span(event).as_ref());
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        if db::queries_waiting()
            && let Some(span) = ctx.span(id)
        {
            span.with_state(|state| db::Bridge::deliver(&mut state.waiting));
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        if db::queries_waiting()
            && let Some(span) = ctx.span(&id)
        {
            span.with_state(|state| db::Bridge::deliver(&mut state.waiting));
        }
    }
}

/// The log stage in a layer stack.
#[derive(Debug)]
pub(crate) struct LogStage(LogLayer);

impl LogStage {
    pub(crate) fn new(stage: LogLayer) -> Self {
        LogStage(stage)
    }
}

impl<S> Layer<S> for LogStage
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if attrs.fields().is_empty() {
            return;
        }
        if let Some(span) = ctx.span(id) {
            span.with_state(|state| self.0.open(attrs, &mut state.fields));
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            span.with_state(|state| self.0.record(values, &mut state.fields));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if !LogLayer::wants_event(event) || db::only_for_bridge(event.metadata()) {
            return;
        }
        // The states are borrowed where they live, the enclosing spans'
        // extensions, read-locked while the line is written; on the stack
        // unless the scope is deep.
        let scope: SmallVec<[SpanRef<'_, S>; 8]> = match ctx.event_span(event) {
            Some(span) => span.scope().collect(),
            None => SmallVec::new(),
        };
        let extensions: SmallVec<[Extensions<'_>; 8]> =
            scope.iter().rev().map(|span| span.extensions()).collect();
        let states: SmallVec<[&SpanState; 8]> = extensions
            .iter()
            .filter_map(|e| e.get::<SpanState>())
            .collect();
        let ids = states.last().map(|state| state.trace.as_parent());
        let fields: SmallVec<[&SpanFields; 8]> = states.iter().map(|state| &state.fields).collect();
        self.0.event(event, ids, &fields);
    }
}
