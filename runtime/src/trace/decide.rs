//! Sampling before a span exists, for o11y's own instrumentation: decide
//! from the current span (or the ratio, for a root) whether a new span will
//! be recorded, so that a sampled-out call never pays for a `tracing` span
//! at all. A span that is then created receives the ids and decision taken
//! here, handed over through a thread-local, so the layer does not decide
//! a second time (and differently).
//!
//! A span continuing a trace from another process (an HTTP server span
//! whose request carried a W3C `traceparent`) is decided by
//! [`SpanLayer::decide_remote`]: the caller's trace id, its span as the
//! parent, its `random` flag, and (parent-based sampling) its sampled
//! flag. Finding the
//! current span and the span stage of the active subscriber is the
//! subscriber's business (`subscriber::decide`).

use std::cell::Cell;
use std::time::SystemTime;

use opentelemetry::trace::{SpanId, TraceId};

use super::w3c::RemoteParent;
use super::{Ids, SpanLayer, sampler};

/// The ids and sampling decision of a span about to be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Decision {
    /// The trace the span belongs to: its parent's, or a new one.
    pub(crate) trace_id: TraceId,
    /// The id the span will have.
    pub(crate) span_id: SpanId,
    /// Its parent's id; invalid for a root.
    pub(crate) parent_span_id: SpanId,
    /// The head sampler's decision: the trace is exported, and the W3C
    /// `sampled` flag sent downstream.
    pub(crate) sampled: bool,
    /// Whether the span will be recorded: head-sampled, or held for the
    /// tail rules (see [`super::tail`]).
    pub(crate) recorded: bool,
    /// The trace's W3C `random` flag (see [`Ids::random`]).
    pub(crate) random: bool,
    /// The span's start, when the caller read the clock already.
    pub(crate) start: Option<SystemTime>,
    /// The parent is a span of another process (from a `traceparent`).
    pub(crate) remote_parent: bool,
}

thread_local! {
    static PRESET: Cell<Option<Decision>> = const { Cell::new(None) };
    static END: Cell<Option<SystemTime>> = const { Cell::new(None) };
}

impl SpanLayer {
    /// Decides for a span that would be created now, as a child of a span
    /// whose ids and flags are `parent` (`None`: a new root).
    #[inline]
    pub(crate) fn decide(&self, parent: Option<Ids>) -> Decision {
        let (trace_id, parent_span_id, parent_sampled, random) = lineage(parent);
        let sampled = self.sampler.should_sample(trace_id, parent_sampled);
        Decision {
            trace_id,
            span_id: sampler::new_span_id(),
            parent_span_id,
            sampled,
            recorded: sampled || self.tail,
            random,
            start: None,
            remote_parent: false,
        }
    }

    /// Decides for a span that continues the trace of `parent`, a span of
    /// another process (read from a W3C `traceparent`): same trace id and
    /// `random` flag, `parent` as the parent span, and with
    /// `tracing.parent_based` the remote sampled flag decides.
    pub(crate) fn decide_remote(&self, parent: &RemoteParent) -> Decision {
        let Ids {
            trace_id,
            span_id,
            sampled,
            random,
        } = parent.ids;
        let sampled = self.sampler.should_sample(trace_id, Some(sampled));
        Decision {
            trace_id,
            span_id: sampler::new_span_id(),
            parent_span_id: span_id,
            sampled,
            recorded: sampled || self.tail,
            random,
            start: None,
            remote_parent: true,
        }
    }
}

impl Decision {
    /// The ids and flags of the span decided for.
    pub(crate) fn ids(&self) -> Ids {
        Ids {
            trace_id: self.trace_id,
            span_id: self.span_id,
            sampled: self.sampled,
            random: self.random,
        }
    }
}

/// Runs `create` (which must create exactly one span, on this thread) with
/// `decision` handed to the span layer for that span.
pub(crate) fn with_decision<T>(decision: Decision, create: impl FnOnce() -> T) -> T {
    PRESET.with(|preset| preset.set(Some(decision)));
    let created = create();
    // Cleared even if the span was disabled and never reached the layer.
    PRESET.with(|preset| preset.set(None));
    created
}

/// Runs `close` (which must close exactly one recorded span, on this
/// thread) with `end` as that span's end time, so the clock is not read
/// again.
pub(crate) fn with_end<T>(end: SystemTime, close: impl FnOnce() -> T) -> T {
    END.with(|preset| preset.set(Some(end)));
    let closed = close();
    END.with(|preset| preset.set(None));
    closed
}

/// The end time handed over for the span being closed, if any.
pub(super) fn take_end() -> Option<SystemTime> {
    END.with(Cell::take)
}

/// The decision handed over for the span being created, if any.
pub(super) fn take_preset() -> Option<Decision> {
    PRESET.with(Cell::take)
}

/// What a span takes from its parent: trace id, parent span id, the
/// parent's decision and the random flag; without a parent, a new trace.
pub(super) fn lineage(parent: Option<Ids>) -> (TraceId, SpanId, Option<bool>, bool) {
    match parent {
        Some(parent) => (
            parent.trace_id,
            parent.span_id,
            Some(parent.sampled),
            parent.random,
        ),
        // Trace Context Level 2, "Random Trace ID Flag": when the right-most
        // 7 bytes of a new trace id are random, the flag "SHOULD be set to
        // 1". All 16 bytes of o11y's trace ids are.
        None => (sampler::new_trace_id(), SpanId::INVALID, None, true),
    }
}
