//! Spans that are over before o11y hears of them: a database query reported
//! with its duration once it has run. Such a span never exists as a
//! `tracing` span: it is built here, with start = end − elapsed, as a child
//! of the span current when it is reported, and goes straight to the export
//! queue (when it is sampled; parent-based like any other span).

use std::borrow::Cow;
use std::time::SystemTime;

use opentelemetry::KeyValue;
use opentelemetry::trace::{SpanKind, Status};
use tracing_core::callsite::{Callsite, Identifier};
use tracing_core::field::FieldSet;
use tracing_core::metadata::Kind;
use tracing_core::subscriber::Interest;
use tracing_core::{Level, Metadata};

use super::{Ids, Recording, SpanSink, sampler};

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

/// Exports `span` as a child of `parent`, if the sampler keeps it and spans
/// are exported at all (`sink`); without a parent, as a new root only with
/// `as_root` (`db.trace_root_queries`).
pub(crate) fn export(
    sampler: &sampler::Sampler,
    sink: Option<&dyn SpanSink>,
    parent: Option<Ids>,
    as_root: bool,
    span: FinishedSpan,
) {
    let Some(sink) = sink else { return };
    // Without a parent the span would be a trace of its own: only when asked.
    if parent.is_none() && !as_root {
        return;
    }
    let (trace_id, parent_span_id, parent_sampled, random) = super::decide::lineage(parent);
    if !sampler.should_sample(trace_id, parent_sampled) {
        return;
    }
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
    let recording = match sink.recycled() {
        Some(mut recycled) => {
            *recycled = fresh;
            recycled
        }
        None => Box::new(fresh),
    };
    sink.push(recording);
}
