//! Tail sampling: with a tail rule on (`tracing.keep_errors`,
//! `tracing.keep_slower_than`), a trace the head sampler left out is still
//! recorded, and its spans are held here until its local root (the first
//! span of this process in the trace) closes. Then the trace is exported
//! whole when a span of it failed or the root was slower than the
//! threshold, each span saying why in `o11y.sampling.reason`, and dropped
//! otherwise: its boxes go back to the pool, nothing crosses to the export
//! thread.
//!
//! [`TailSink`] sits in front of the export queue's sink: head-sampled
//! spans pass straight through (with reason `head`); a recording the span
//! stage marked as [held](Recording::hold) joins its [`LocalTrace`]. A
//! span's children close before it does (each holds its parent open), so
//! when the local root arrives, its trace is complete; a span that still
//! arrives later (one reported after the root closed) follows the fate
//! already decided. A local root's [`LocalTrace`] is made when its first
//! child opens: a root without children (an observed call outside any
//! span) is decided alone, with no allocation and no lock.
//!
//! Memory is bounded twice: a trace holds at most
//! `tracing.tail_max_spans_per_trace` spans besides its root, and all
//! traces together at most `tracing.tail_max_bytes` (an estimate of each
//! span's heap). A span over either cap is dropped and counted in
//! `o11y_spans_dropped_total{reason}`; the root is never held, so a kept
//! trace always arrives with its root.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use opentelemetry::trace::{Event, Status};
use opentelemetry::{KeyValue, Value};

use super::{Recording, SpanSink};
use crate::metrics::own::{SpanDrop, span_dropped};

/// The attribute every span exported under tail rules carries.
pub(crate) const REASON_KEY: &str = "o11y.sampling.reason";

/// Why a span was exported: the value of `o11y.sampling.reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reason {
    /// The head sampler picked the trace (at `tracing.sample_rate`).
    Head,
    /// A span of the trace failed.
    Error,
    /// The local root took longer than `tracing.keep_slower_than`.
    Slow,
}

impl Reason {
    fn as_str(self) -> &'static str {
        match self {
            Reason::Head => "head",
            Reason::Error => "error",
            Reason::Slow => "slow",
        }
    }

    fn attribute(self) -> KeyValue {
        KeyValue::new(REASON_KEY, self.as_str())
    }
}

/// The tail rules in force, from the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TailRules {
    /// Keep a trace with a failed span.
    pub(crate) keep_errors: bool,
    /// Keep a trace whose local root took longer than this.
    pub(crate) keep_slower_than: Option<Duration>,
    /// Spans held per local trace, its root not counted.
    pub(crate) max_spans_per_trace: usize,
    /// Bytes held by all traces together.
    pub(crate) max_bytes: usize,
}

/// Where a recorded span goes when it closes, under tail rules.
#[derive(Debug, Default)]
pub(crate) enum Hold {
    /// Not held: head-sampled (or tail rules off), exported as it closes.
    #[default]
    No,
    /// The local root of a trace the head sampler left out: its close
    /// decides. The trace's buffer exists once a child asked for it.
    Root(OnceLock<Arc<LocalTrace>>),
    /// Another span of such a trace, held in its buffer.
    In(Arc<LocalTrace>),
}

impl Hold {
    /// The hold of a span the head sampler left out, whose parent's local
    /// trace is `parent` (`None`: the span is a local root).
    pub(crate) fn under(parent: Option<Arc<LocalTrace>>) -> Hold {
        match parent {
            Some(trace) => Hold::In(trace),
            None => Hold::Root(OnceLock::new()),
        }
    }

    /// The local trace a child of this span joins; made by the first child
    /// of a root. `None` for a span that is not held.
    pub(crate) fn trace(&self) -> Option<Arc<LocalTrace>> {
        match self {
            Hold::No => None,
            Hold::Root(trace) => Some(trace.get_or_init(LocalTrace::new_shared).clone()),
            Hold::In(trace) => Some(trace.clone()),
        }
    }
}

/// The spans of one local trace the head sampler left out, held until its
/// root closes. Shared (`Arc`) by the recordings of the trace's open spans.
#[derive(Debug, Default)]
pub(crate) struct LocalTrace {
    held: Mutex<Held>,
}

#[derive(Debug, Default)]
struct Held {
    /// Boxed on purpose: each box goes on to the export queue (or back to
    /// the pool) as it is, one pointer, without moving the recording.
    #[allow(clippy::vec_box)]
    spans: Vec<Box<Recording>>,
    /// What `spans` take, as counted against the global cap.
    bytes: usize,
    /// A span of the trace failed (held, dropped by a cap, or still open
    /// when it failed and closed since).
    failed: bool,
    fate: Fate,
}

/// What became of a local trace.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// Its root is still open: spans are held.
    #[default]
    Open,
    /// Exported, for this reason: a late span goes straight after it.
    Kept(Reason),
    /// Not kept: a late span is dropped too.
    Dropped,
}

impl LocalTrace {
    /// The trace of a new local root.
    pub(crate) fn new_shared() -> Arc<LocalTrace> {
        Arc::new(LocalTrace::default())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The sink in front of the export queue when tail rules are on; see the
/// module documentation.
#[derive(Debug)]
pub(crate) struct TailSink {
    inner: Arc<dyn SpanSink>,
    rules: TailRules,
    /// Bytes held by every open local trace.
    held_bytes: AtomicUsize,
}

impl TailSink {
    /// `inner` (the export queue) behind `rules`.
    pub(crate) fn new(inner: Arc<dyn SpanSink>, rules: TailRules) -> Self {
        TailSink {
            inner,
            rules,
            held_bytes: AtomicUsize::new(0),
        }
    }

    /// Holds `span`, a closed span of `trace` other than its root.
    fn hold(&self, trace: &LocalTrace, span: Box<Recording>) {
        let mut held = trace.lock();
        held.failed |= span.failed();
        match held.fate {
            Fate::Kept(reason) => return self.export(span, reason),
            Fate::Dropped => return self.inner.recycle(span),
            Fate::Open => {}
        }
        if held.spans.len() >= self.rules.max_spans_per_trace {
            span_dropped(SpanDrop::TailTraceCap, 1);
            return self.inner.recycle(span);
        }
        let bytes = span.held_bytes();
        let before = self.held_bytes.fetch_add(bytes, Ordering::Relaxed);
        if before + bytes > self.rules.max_bytes {
            self.held_bytes.fetch_sub(bytes, Ordering::Relaxed);
            span_dropped(SpanDrop::TailBytesCap, 1);
            return self.inner.recycle(span);
        }
        held.bytes += bytes;
        held.spans.push(span);
    }

    /// Why a local trace whose root is `root` is kept, if it is;
    /// `failed`: a span of it failed.
    fn reason(&self, root: &Recording, failed: bool) -> Option<Reason> {
        if self.rules.keep_errors && failed {
            Some(Reason::Error)
        } else if self
            .rules
            .keep_slower_than
            .is_some_and(|threshold| root.duration() > threshold)
        {
            Some(Reason::Slow)
        } else {
            None
        }
    }

    /// Decides the fate of a local trace that is its root alone.
    fn settle_alone(&self, root: Box<Recording>) {
        match self.reason(&root, root.failed()) {
            Some(reason) => self.export(root, reason),
            None => self.inner.recycle(root),
        }
    }

    /// Decides the fate of `trace` now that its root, `root`, closed: its
    /// held spans and the root go to export or back to the pool.
    fn settle(&self, trace: &LocalTrace, root: Box<Recording>) {
        let mut held = trace.lock();
        held.failed |= root.failed();
        let reason = self.reason(&root, held.failed);
        held.fate = reason.map_or(Fate::Dropped, Fate::Kept);
        let spans = std::mem::take(&mut held.spans);
        self.held_bytes.fetch_sub(held.bytes, Ordering::Relaxed);
        held.bytes = 0;
        drop(held);
        match reason {
            Some(reason) => {
                for span in spans {
                    self.export(span, reason);
                }
                self.export(root, reason);
            }
            None => {
                for span in spans {
                    self.inner.recycle(span);
                }
                self.inner.recycle(root);
            }
        }
    }

    fn export(&self, mut span: Box<Recording>, reason: Reason) {
        span.attributes.push(reason.attribute());
        self.inner.push(span);
    }

    /// Bytes held right now by all local traces.
    #[cfg(test)]
    fn held_now(&self) -> usize {
        self.held_bytes.load(Ordering::Relaxed)
    }
}

impl SpanSink for TailSink {
    #[inline]
    fn recycled(&self) -> Option<Box<Recording>> {
        self.inner.recycled()
    }

    fn push(&self, mut span: Box<Recording>) {
        match std::mem::take(&mut span.hold) {
            Hold::No => self.export(span, Reason::Head),
            Hold::Root(trace) => match trace.into_inner() {
                Some(trace) => self.settle(&trace, span),
                None => self.settle_alone(span),
            },
            Hold::In(trace) => self.hold(&trace, span),
        }
    }

    fn recycle(&self, span: Box<Recording>) {
        self.inner.recycle(span);
    }

    fn holds_unsampled(&self) -> bool {
        true
    }
}

impl Recording {
    /// The span failed: an error status (an `error!` event inside, an
    /// `otel.status_code` field), or a failure reported on it (an `err`, a
    /// panic, a 5xx), which a status `Ok` the application set keeps from
    /// showing in the status.
    pub(crate) fn failed(&self) -> bool {
        self.failed || matches!(self.status, Status::Error { .. })
    }

    /// How long the span ran.
    fn duration(&self) -> Duration {
        self.end.duration_since(self.start).unwrap_or_default()
    }

    /// An estimate of the memory the span holds: its box, its attribute
    /// storage and the text of its attributes and events. What the global
    /// cap counts; precise enough to bound memory, cheap enough to run on
    /// every held span.
    fn held_bytes(&self) -> usize {
        let attributes = |list: &[KeyValue]| -> usize {
            list.iter()
                .map(|kv| kv.key.as_str().len() + value_bytes(&kv.value))
                .sum()
        };
        let events: usize = self
            .events
            .iter()
            .map(|event: &Event| {
                std::mem::size_of::<Event>()
                    + event.name.len()
                    + event.attributes.capacity() * std::mem::size_of::<KeyValue>()
                    + attributes(&event.attributes)
            })
            .sum();
        std::mem::size_of::<Recording>()
            + self.attributes.capacity() * std::mem::size_of::<KeyValue>()
            + attributes(&self.attributes)
            + events
            + self.links.capacity() * std::mem::size_of::<opentelemetry::trace::Link>()
            + self.name.as_ref().map_or(0, |name| name.len())
    }
}

/// The heap text of a value (strings and arrays of them).
fn value_bytes(value: &Value) -> usize {
    match value {
        Value::String(text) => text.as_str().len(),
        Value::Array(opentelemetry::Array::String(items)) => {
            items.iter().map(|item| item.as_str().len()).sum()
        }
        _ => 0,
    }
}

#[cfg(test)]
mod tests;
