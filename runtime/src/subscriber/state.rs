//! o11y's state of one span: each stage's part, side by side. A stage is
//! handed its own part (the span stage its ids and recording, the log
//! stage the fields lines inherit, the db bridge the queries waiting for
//! their N+1 scope) and never sees another's.

use tracing_subscriber::registry::LookupSpan;

use crate::{db, log, trace};

/// What o11y keeps for every live span: inline in a slot of `init()`'s
/// subscriber, or one extension of a registry span (one extension for all
/// of it, as each extension of its own is one more allocation, map insert
/// and lookup per span).
#[derive(Debug)]
pub(crate) struct SpanState {
    /// The span stage's: ids, sampling decision, recording.
    pub(crate) trace: trace::SpanState,
    /// The log stage's: what log lines inside the span carry from it
    /// (filled by the log stage and the context API).
    pub(crate) fields: log::SpanFields,
    /// The db bridge's: queries that ran inside the span on another
    /// thread, waiting for their N+1 scope. Empty on almost every span.
    pub(crate) waiting: db::Waiting,
}

impl SpanState {
    /// The state of no span yet.
    pub(crate) fn empty() -> Self {
        SpanState {
            trace: trace::SpanState::empty(),
            fields: log::SpanFields::default(),
            waiting: db::Waiting::new(),
        }
    }

    /// Empty again, for the next span of a reused slot: what the span held
    /// is dropped, the memory of its field list kept.
    pub(crate) fn reset(&mut self) {
        self.trace.reset();
        self.fields.clear();
        self.waiting.clear();
    }
}

/// A span whose o11y state a stage reads or changes, under a lock held
/// only for `f`: a registry span (its extensions) or a slot of `init()`'s
/// subscriber.
pub(crate) trait WithState {
    /// Runs `f` on the span's state; `None` when o11y keeps none for it.
    fn with_state<R>(&self, f: impl FnOnce(&mut SpanState) -> R) -> Option<R>;
}

impl<S> WithState for tracing_subscriber::registry::SpanRef<'_, S>
where
    S: for<'a> LookupSpan<'a>,
{
    fn with_state<R>(&self, f: impl FnOnce(&mut SpanState) -> R) -> Option<R> {
        self.extensions_mut().get_mut::<SpanState>().map(f)
    }
}

/// What the db bridge needs of the span a query event happened in.
impl<T: WithState> db::QuerySpan for T {
    fn with_parts<R>(&self, f: impl FnOnce(&trace::SpanState, &mut db::Waiting) -> R) -> Option<R> {
        self.with_state(|state| f(&state.trace, &mut state.waiting))
    }
}
