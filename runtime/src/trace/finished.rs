//! Spans that are over before o11y hears of them: a database query reported
//! with its duration once it has run. Such a span never exists as a
//! `tracing` span: it is built here, with start = end − elapsed, as a child
//! of the span current when it is reported, and goes straight to the export
//! queue (when it is sampled; parent-based like any other span), or, under
//! tail rules, joins its parent's held trace.

use std::borrow::Cow;
use std::time::SystemTime;

use opentelemetry::KeyValue;
use opentelemetry::trace::{SpanKind, Status};
use tracing_core::callsite::{Callsite, Identifier};
use tracing_core::field::FieldSet;
use tracing_core::metadata::Kind;
use tracing_core::subscriber::Interest;
use tracing_core::{Level, Metadata};

use std::sync::Arc;

use super::tail::LocalTrace;
use super::{Ids, Recording, SpanSink, SpanState, sampler};

/// A finished span to export.
#[derive(Debug)]
pub(crate) struct FinishedSpan {
    pub(crate) name: Cow<'static, str>,
    pub(crate) kind: SpanKind,
    pub(crate) start: SystemTime,
    pub(crate) end: SystemTime,
    pub(crate) attributes: Vec<KeyValue>,
    pub(crate) status: Status,
}

/// The callsite of spans built here: instrumentation scope `o11y::db`, no
/// code location (a query's own location, when known, is an attribute).
struct DbCallsite;

static DB_CALLSITE: DbCallsite = DbCallsite;

pub(crate) static DB_METADATA: Metadata<'static> = Metadata::new(
    "db.query",
    "o11y::db",
    Level::INFO,
    None,
    None,
    None,
    FieldSet::new(&[], Identifier(&DB_CALLSITE)),
    Kind::SPAN,
);

impl Callsite for DbCallsite {
    fn set_interest(&self, _: Interest) {}

    fn metadata(&self) -> &Metadata<'_> {
        &DB_METADATA
    }
}

/// What a finished span takes from the span it is reported in: its ids,
/// and the local trace it is held in under tail rules.
#[derive(Debug, Clone)]
pub(crate) struct Parent {
    pub(crate) ids: Ids,
    pub(crate) held: Option<Arc<LocalTrace>>,
}

impl Parent {
    /// The parent that the span whose state is `state` is.
    pub(crate) fn of(state: &SpanState) -> Parent {
        Parent {
            ids: state.as_parent(),
            held: state.recording.as_ref().and_then(|r| r.hold.trace()),
        }
    }
}

/// Exports `span` as a child of `parent`, if the sampler keeps it and spans
/// are exported at all (`sink`); without a parent, as a new root only with
/// `as_root` (`db.trace_root_queries`). Under tail rules, a span the
/// sampler leaves out joins its parent's held trace (or, as a root, is a
/// local trace of its own, decided at once).
pub(crate) fn export(
    sampler: &sampler::Sampler,
    sink: Option<&dyn SpanSink>,
    parent: Option<Parent>,
    as_root: bool,
    span: FinishedSpan,
) {
    let Some(sink) = sink else { return };
    // Without a parent the span would be a trace of its own: only when asked.
    if parent.is_none() && !as_root {
        return;
    }
    let (parent, parent_held) = parent.map(|p| (p.ids, p.held)).unzip();
    let (trace_id, parent_span_id, parent_sampled, random) = super::decide::lineage(parent);
    let sampled = sampler.should_sample(trace_id, parent_sampled);
    if !sampled && !sink.holds_unsampled() {
        return;
    }
    let parent_held = parent_held.flatten();
    // A query span's parent is always a span of this process.
    let fresh = Recording {
        random,
        end: span.end,
        name: Some(span.name),
        kind: span.kind,
        attributes: span.attributes,
        status: span.status,
        ..Recording::new(
            trace_id,
            sampler::new_span_id(),
            parent_span_id,
            &DB_METADATA,
            span.start,
        )
    };
    let mut recording = match sink.recycled() {
        Some(mut recycled) => {
            *recycled = fresh;
            recycled
        }
        None => Box::new(fresh),
    };
    if !sampled {
        recording.hold = super::tail::Hold::under(parent_held);
    }
    sink.push(recording);
}
