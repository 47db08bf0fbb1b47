//! The subscriber `init()` installs: o11y's span pipeline, its log lines
//! and its db bridge as one `tracing` subscriber, with o11y's state inline
//! in each span's slot.
//!
//! [`crate::layer`] gives the same stages as `tracing-subscriber` layers
//! (`layered`), for a subscriber of the application's own; there each
//! stage finds its span through the registry and o11y's state in the span's
//! extensions (a type-keyed map), once per stage and callback. Here a span
//! is one slab slot holding its metadata, its parent and o11y's state: a
//! callback looks the span up once and every stage works on its own part
//! of the state in place (`state`). What the stages do is theirs alone
//! (`trace::SpanLayer`, `log::LogLayer`, `db::Bridge`): none of them knows
//! another. This module owns where spans live, which span is current on
//! each thread, when a span closes, and the access to a span's state from
//! outside the stages (`current`).
//!
//! The level filter stays a layer over this subscriber (`Layered<filter,
//! O11ySubscriber>`): it only decides which callsites are enabled, and
//! `EnvFilter`'s span directives need its own span bookkeeping anyway.

pub(crate) mod current;
pub(crate) mod layered;
mod no_wait;
mod stack;
mod state;

use std::sync::atomic::{AtomicUsize, Ordering, fence};
use std::sync::{PoisonError, RwLock, RwLockReadGuard};

use sharded_slab::{Clear, Pool};
use smallvec::SmallVec;
use thread_local::ThreadLocal;
use tracing_core::span::{Attributes, Current, Id, Record};
use tracing_core::{Event, Interest, Metadata, Subscriber};

use crate::db;
use crate::export_thread::is_export_thread;
use crate::log::{LogLayer, SpanFields};
use crate::trace::SpanLayer;
pub(crate) use no_wait::without_waiting;
use stack::SpanStack;
pub(crate) use state::{SpanState, WithState};

/// The stages every span and event goes through, in this order.
#[derive(Debug)]
pub(crate) struct Pipeline {
    /// Ids, sampling, recording and export.
    pub(crate) spans: SpanLayer,
    /// sqlx's query events: metrics, N+1 counts, query spans.
    pub(crate) db: db::Bridge,
    /// Log lines.
    pub(crate) logs: LogLayer,
}

/// o11y as a `tracing` subscriber; see the module documentation.
pub(crate) struct O11ySubscriber {
    /// Slots are reused, not freed: a span is written into a cleared slot.
    spans: Pool<Slot>,
    /// Each thread's entered spans.
    stacks: ThreadLocal<std::cell::RefCell<SpanStack>>,
    pipeline: Pipeline,
    /// The filter over this subscriber keeps span bookkeeping of its own
    /// (`EnvFilter` with span directives), which must see every close.
    filter_tracks_spans: bool,
}

impl std::fmt::Debug for O11ySubscriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("O11ySubscriber")
            .field("pipeline", &self.pipeline)
            .finish_non_exhaustive()
    }
}

/// A live span (or a cleared slot, waiting for the next).
#[derive(Default)]
struct Slot {
    metadata: Option<&'static Metadata<'static>>,
    /// Held (counted in the parent's `handles`) until this span closes, so
    /// that the scope of a line written inside it is still there.
    parent: Option<Id>,
    /// The span's handles: `tracing::Span`s, clones of its id, children.
    handles: AtomicUsize,
    /// `None` for the export thread's own spans, which o11y ignores.
    state: RwLock<Option<SpanState>>,
}

impl Slot {
    /// The state, read-locked; `None` only [without waiting](without_waiting)
    /// when it is locked.
    fn read(&self) -> Option<RwLockReadGuard<'_, Option<SpanState>>> {
        no_wait::read(&self.state)
    }
}

impl Clear for Slot {
    /// Keeps the state, reset, for the slot's next span (see `new_span`).
    fn clear(&mut self) {
        self.parent = None;
        if let Some(state) = self.state.get_mut().unwrap_or_else(PoisonError::into_inner) {
            state.reset();
        }
    }
}

impl WithState for Slot {
    fn with_state<R>(&self, f: impl FnOnce(&mut SpanState) -> R) -> Option<R> {
        let mut state = no_wait::write(&self.state)?;
        state.as_mut().map(f)
    }
}

/// A span id is its pool key plus one (ids are non-zero).
fn key_of(id: &Id) -> usize {
    usize::try_from(id.into_u64() - 1).unwrap_or(usize::MAX)
}

fn id_of(key: usize) -> Id {
    Id::from_u64(key as u64 + 1)
}

impl O11ySubscriber {
    /// The subscriber of `pipeline`, under a filter that keeps span
    /// bookkeeping of its own when `filter_tracks_spans`.
    pub(crate) fn new(pipeline: Pipeline, filter_tracks_spans: bool) -> Self {
        register_hooks();
        O11ySubscriber {
            spans: Pool::new(),
            stacks: ThreadLocal::new(),
            pipeline,
            filter_tracks_spans,
        }
    }

    /// The span stage: its sampler and export queue serve o11y's own
    /// instrumentation, which decides before it creates a span.
    pub(crate) fn span_layer(&self) -> &SpanLayer {
        &self.pipeline.spans
    }

    /// Runs `f` on the state of span `id`, if it is live and o11y keeps
    /// its state.
    #[inline]
    pub(crate) fn with_state<R>(&self, id: &Id, f: impl FnOnce(&mut SpanState) -> R) -> Option<R> {
        self.spans.get(key_of(id))?.with_state(f)
    }

    /// Runs `f` on the state of the nearest span, from span `id` outwards,
    /// whose state is `wanted`.
    pub(crate) fn with_enclosing_state<R>(
        &self,
        id: &Id,
        wanted: impl Fn(&SpanState) -> bool,
        f: impl FnOnce(&mut SpanState) -> R,
    ) -> Option<R> {
        let mut slot = self.spans.get(key_of(id))?;
        loop {
            if slot.read()?.as_ref().is_some_and(&wanted) {
                return slot.with_state(f);
            }
            slot = self.spans.get(key_of(slot.parent.as_ref()?))?;
        }
    }

    /// The innermost span this thread is inside.
    #[inline]
    pub(crate) fn current_id(&self) -> Option<Id> {
        self.stacks.get()?.borrow().current().cloned()
    }

    /// The span an event or a new span belongs to: its explicit parent, or
    /// the current span for a contextual one.
    #[inline]
    fn parent_of(&self, contextual: bool, explicit: Option<&Id>) -> Option<Id> {
        if contextual {
            self.current_id()
        } else {
            explicit.cloned()
        }
    }

    /// Counts one handle of span `id` less; returns whether that was the
    /// last one, in which case the span has been closed and its parent
    /// released.
    fn release(&self, id: &Id) -> bool {
        let key = key_of(id);
        let Some(slot) = self.spans.get(key) else {
            return false;
        };
        if slot.handles.fetch_sub(1, Ordering::Release) != 1 {
            return false;
        }
        // Every other handle's last use happens before the close.
        fence(Ordering::Acquire);
        slot.with_state(|state| {
            self.pipeline.spans.close(&mut state.trace);
            db::Bridge::deliver(&mut state.waiting);
        });
        let parent = slot.parent.clone();
        drop(slot);
        self.spans.clear(key);
        if let Some(parent) = parent {
            self.close_parent(parent);
        }
        true
    }

    /// Releases a closed span's hold on its parent: directly, unless the
    /// filter over this subscriber must see the parent close; then through
    /// the dispatcher, when it is this subscriber's.
    fn close_parent(&self, parent: Id) {
        if !self.filter_tracks_spans {
            self.release(&parent);
            return;
        }
        let mut parent = Some(parent);
        tracing_core::dispatcher::get_default(|dispatch| {
            if dispatch
                .downcast_ref::<O11ySubscriber>()
                .is_some_and(|own| std::ptr::eq(own, self))
                && let Some(parent) = parent.take()
            {
                dispatch.try_close(parent);
            }
        });
        if let Some(parent) = parent {
            self.release(&parent);
        }
    }
}

impl Subscriber for O11ySubscriber {
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        // The filter over this subscriber decides.
        Interest::always()
    }

    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let (parent, parent_slot) = self
            .parent_of(attrs.is_contextual(), attrs.parent())
            .and_then(|parent| {
                let slot = self.spans.get(key_of(&parent))?;
                slot.handles.fetch_add(1, Ordering::Relaxed);
                Some((parent, slot))
            })
            .unzip();
        let own = !is_export_thread();
        // The pool holds as many spans as 4,096 threads can create; running
        // out is a leak of spans never closed, which cannot go on.
        let key = self
            .spans
            .create_with(|slot| {
                slot.metadata = Some(attrs.metadata());
                slot.parent = parent;
                *slot.handles.get_mut() = 1;
                let state = slot.state.get_mut().unwrap_or_else(PoisonError::into_inner);
                if !own {
                    *state = None;
                    return;
                }
                // Written in place, into the state the slot's last span
                // left (reset when it closed).
                let state = state.get_or_insert_with(SpanState::empty);
                let parent_state = parent_slot.as_ref().and_then(|slot| slot.read());
                self.pipeline.spans.open_into(
                    attrs,
                    parent_state
                        .as_ref()
                        .and_then(|s| s.as_ref())
                        .map(|s| &s.trace),
                    &mut state.trace,
                );
                self.pipeline.logs.open(attrs, &mut state.fields);
            })
            .expect("no room for another span: spans are leaking");
        id_of(key)
    }

    fn record(&self, id: &Id, values: &Record<'_>) {
        self.with_state(id, |state| {
            self.pipeline.spans.record(&mut state.trace, values);
            self.pipeline.logs.record(values, &mut state.fields);
        });
    }

    fn record_follows_from(&self, id: &Id, follows: &Id) {
        // One lock at a time: a span may follow from itself.
        if let Some(follows) = self.with_state(follows, |state| state.trace.span_context()) {
            self.with_state(id, |state| {
                SpanLayer::follows_from(&mut state.trace, follows)
            });
        }
    }

    fn event(&self, event: &Event<'_>) {
        let for_db = db::Bridge::wants_event(event);
        // A driver's query event below the configured level is the
        // bridge's alone.
        let others = !db::only_for_bridge(event.metadata());
        let for_span = others && SpanLayer::wants_event(event);
        let for_logs = others && LogLayer::wants_event(event);
        if !(for_db || for_span || for_logs) {
            return;
        }
        let span = self
            .parent_of(event.is_contextual(), event.parent())
            .and_then(|id| self.spans.get(key_of(&id)));
        if for_db {
            self.pipeline.db.event(event, span.as_deref());
        }
        if for_span && let Some(slot) = &span {
            slot.with_state(|state| self.pipeline.spans.event(&mut state.trace, event));
        }
        if for_logs {
            // The scope, innermost first; each parent is held by its child.
            let mut scope: SmallVec<[_; 8]> = SmallVec::new();
            let mut next = span;
            while let Some(slot) = next {
                next = slot
                    .parent
                    .as_ref()
                    .and_then(|parent| self.spans.get(key_of(parent)));
                scope.push(slot);
            }
            // Read-locked while the line is written, outermost first.
            let guards: SmallVec<[_; 8]> =
                scope.iter().rev().filter_map(|slot| slot.read()).collect();
            let states: SmallVec<[&SpanState; 8]> =
                guards.iter().filter_map(|state| state.as_ref()).collect();
            let ids = states.last().map(|state| state.trace.as_parent());
            let fields: SmallVec<[&SpanFields; 8]> =
                states.iter().map(|state| &state.fields).collect();
            self.pipeline.logs.event(event, ids, &fields);
        }
    }

    fn enter(&self, id: &Id) {
        self.stacks.get_or_default().borrow_mut().push(id.clone());
        if db::queries_waiting() {
            self.with_state(id, |state| db::Bridge::deliver(&mut state.waiting));
        }
    }

    fn exit(&self, id: &Id) {
        if let Some(stack) = self.stacks.get() {
            stack.borrow_mut().pop(id);
        }
    }

    fn clone_span(&self, id: &Id) -> Id {
        if let Some(slot) = self.spans.get(key_of(id)) {
            slot.handles.fetch_add(1, Ordering::Relaxed);
        }
        id.clone()
    }

    fn try_close(&self, id: Id) -> bool {
        self.release(&id)
    }

    fn current_span(&self) -> Current {
        match self
            .current_id()
            .and_then(|id| Some((self.spans.get(key_of(&id))?.metadata?, id)))
        {
            Some((metadata, id)) => Current::new(id, metadata),
            None => Current::none(),
        }
    }
}

/// Hands the layers below the access to span state they need but cannot
/// reach themselves (it lives here): the metrics' exemplars, the db
/// module's scope spans and reported queries. The same functions for every
/// o11y subscriber, so the first registration is the one kept.
fn register_hooks() {
    // A metric may be recorded while this thread holds a span's state (a
    // field's `Debug` that counts something, o11y's own counters): an
    // exemplar is not worth waiting for that lock, which would never come.
    crate::metrics::set_exemplar_source(|| no_wait::without_waiting(current::sampled_span));
    db::hooks::register(db::hooks::SpanAccess {
        set_attributes: current::set_attributes,
        with_waiting: |span, f| {
            current::with_span_state(span, |state| f(&mut state.waiting));
        },
        export_in_current: current::export_in_current,
    });
}

#[cfg(test)]
mod tests {
    use tracing::Dispatch;
    use tracing_subscriber::Layer as _;

    use super::*;
    use crate::log::LevelDirectives;
    use crate::trace::Sampler;
    use current::{current_ids, with_enclosing_state, with_span_state};

    /// The subscriber under `directives`, every span sampled, nothing
    /// written or exported.
    fn dispatch(directives: &str) -> Dispatch {
        let sampler = Sampler::new(true, 1.0, true);
        let pipeline = Pipeline {
            db: db::bridge(sampler, None),
            spans: SpanLayer::new(sampler, None, crate::redact::active()),
            logs: LogLayer::new(Vec::new(), None, None, crate::redact::active()),
        };
        let filter = LevelDirectives::new(directives, directives.parse().expect("valid"));
        let subscriber = O11ySubscriber::new(pipeline, filter.tracks_spans());
        Dispatch::new(filter.with_subscriber(subscriber))
    }

    fn is_live(dispatch: &Dispatch, id: &Id) -> bool {
        let own = dispatch.downcast_ref::<O11ySubscriber>().expect("o11y's");
        own.with_state(id, |_| ()).is_some()
    }

    #[test]
    fn a_child_keeps_its_parent_until_it_closes() {
        for directives in ["info", "info,[request]=debug"] {
            let dispatch = dispatch(directives);
            tracing::dispatcher::with_default(&dispatch, || {
                let parent = tracing::info_span!("request");
                with_span_state(&parent, |state| state.trace.entry = true);
                let parent_id = parent.id().expect("enabled");
                let ids =
                    with_span_state(&parent, |state| (state.trace.trace_id, state.trace.span_id));
                let child = parent.in_scope(|| tracing::info_span!("query"));
                let child_id = child.id().expect("enabled");
                drop(parent);
                assert!(
                    is_live(&dispatch, &parent_id),
                    "{directives}: held by its child"
                );
                child.in_scope(|| {
                    assert_eq!(current_ids().map(|ids| ids.trace_id), ids.map(|ids| ids.0));
                    assert_eq!(
                        with_enclosing_state(
                            |state| state.trace.entry,
                            |state| state.trace.span_id
                        ),
                        ids.map(|ids| ids.1),
                        "{directives}: the enclosing request span is found"
                    );
                });
                drop(child);
                assert!(!is_live(&dispatch, &child_id), "{directives}");
                assert!(!is_live(&dispatch, &parent_id), "{directives}: released");
            });
        }
    }

    #[test]
    fn the_current_span_is_the_one_entered_last() {
        let dispatch = dispatch("info");
        tracing::dispatcher::with_default(&dispatch, || {
            assert!(tracing::Span::current().is_none());
            let outer = tracing::info_span!("outer");
            let inner = outer.in_scope(|| tracing::info_span!("inner"));
            let _outer = outer.enter();
            {
                let _inner = inner.enter();
                assert_eq!(tracing::Span::current().id(), inner.id());
                assert_eq!(
                    tracing::Span::current().metadata().map(|m| m.name()),
                    Some("inner")
                );
            }
            assert_eq!(tracing::Span::current().id(), outer.id());
        });
    }

    #[test]
    fn a_span_may_follow_from_itself_and_spans_below_the_level_are_none() {
        let dispatch = dispatch("info");
        tracing::dispatcher::with_default(&dispatch, || {
            let span = tracing::info_span!("batch");
            span.follows_from(&span);
            let linked = with_span_state(&span, |state| {
                state.trace.recording.as_ref().map(|r| r.links.len())
            });
            // Recorded only with an exporter: no recording, no link, no hang.
            assert_eq!(linked, Some(None));
            assert!(tracing::debug_span!("hidden").is_disabled());
        });
    }
}
