//! A trace's page (`/o11y/trace/<id>`): the waterfall of every span, from
//! every process that sent one, in tree order, each with its attributes and
//! events a click away and the log lines written in it right below it; the
//! queries grouped by fingerprint, the N+1 group highlighted; the exception
//! events.

use std::collections::{BTreeSet, HashMap};

use maud::{Markup, html};

use super::{Nav, attributes, layout, millis, time_of_day};
use crate::console_store::{self, SpanId, Store, StoredLog, StoredSpan, TraceId, TraceView};

/// Queries of one fingerprint in the trace.
#[derive(Debug, Clone, PartialEq)]
pub(in crate::dev_console) struct QueryGroup {
    pub(in crate::dev_console) fingerprint: String,
    pub(in crate::dev_console) count: usize,
    /// Their total duration, in nanoseconds.
    pub(in crate::dev_console) total: u64,
    /// An N+1 detection named this fingerprint.
    pub(in crate::dev_console) n_plus_one: bool,
}

/// The fingerprints the trace's N+1 detections name: the detector's
/// warnings, and the scope spans' attribute (for a process whose log lines
/// did not come).
fn n_plus_one_fingerprints(view: &TraceView) -> BTreeSet<String> {
    let from_lines = view
        .logs
        .iter()
        .filter(|log| console_store::is_n_plus_one(log))
        .filter_map(|log| log.attribute("fingerprint"));
    let from_spans = view
        .spans
        .iter()
        .filter_map(|span| span.attribute("db.n_plus_one.fingerprint"));
    from_lines
        .chain(from_spans)
        .map(crate::db::fingerprint)
        .collect()
}

/// The trace's queries by fingerprint, the most repeated first.
pub(in crate::dev_console) fn query_groups(view: &TraceView) -> Vec<QueryGroup> {
    let flagged = n_plus_one_fingerprints(view);
    let mut groups: HashMap<String, QueryGroup> = HashMap::new();
    for span in view
        .spans
        .iter()
        .filter(|span| console_store::is_query(span))
    {
        // The statement as written when `db.capture_parameters` is on.
        let text = span.attribute("db.query.text").unwrap_or(&span.name);
        let fingerprint = crate::db::fingerprint(text);
        let group = groups
            .entry(fingerprint.clone())
            .or_insert_with(|| QueryGroup {
                n_plus_one: flagged.contains(&fingerprint),
                fingerprint,
                count: 0,
                total: 0,
            });
        group.count += 1;
        group.total += span.duration();
    }
    let mut groups: Vec<QueryGroup> = groups.into_values().collect();
    groups.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then(a.fingerprint.cmp(&b.fingerprint))
    });
    groups
}

/// The spans in tree order (children after their parent, by start), each
/// with its depth; spans whose parent is not here start a tree of their own.
fn tree_order(spans: &[StoredSpan]) -> Vec<(usize, &StoredSpan)> {
    let ids: BTreeSet<SpanId> = spans.iter().map(|span| span.span_id).collect();
    let mut children: HashMap<SpanId, Vec<&StoredSpan>> = HashMap::new();
    let mut roots = Vec::new();
    for span in spans {
        match span.parent_span_id.filter(|parent| ids.contains(parent)) {
            Some(parent) => children.entry(parent).or_default().push(span),
            None => roots.push(span),
        }
    }
    let mut ordered = Vec::with_capacity(spans.len());
    let mut stack: Vec<(usize, &StoredSpan)> = roots.into_iter().rev().map(|s| (0, s)).collect();
    while let Some((depth, span)) = stack.pop() {
        ordered.push((depth, span));
        if let Some(kids) = children.get(&span.span_id) {
            stack.extend(kids.iter().rev().map(|kid| (depth + 1, *kid)));
        }
    }
    ordered
}

pub(in crate::dev_console) fn page(store: &Store, id: &TraceId) -> Option<String> {
    let view = store.trace(id)?;
    let start = view
        .spans
        .iter()
        .map(|s| s.start)
        .chain(view.logs.iter().map(|l| l.time))
        .min()?;
    let end = view
        .spans
        .iter()
        .map(|s| s.end)
        .chain(view.logs.iter().map(|l| l.time))
        .max()?;
    let scale = Scale {
        start,
        span: end.saturating_sub(start).max(1),
    };
    let groups = query_groups(&view);
    let mut lines_by_span: HashMap<SpanId, Vec<&StoredLog>> = HashMap::new();
    let mut orphan_lines = Vec::new();
    let span_ids: BTreeSet<SpanId> = view.spans.iter().map(|s| s.span_id).collect();
    for log in &view.logs {
        match log.span_id.filter(|span| span_ids.contains(span)) {
            Some(span) => lines_by_span.entry(span).or_default().push(log),
            None => orphan_lines.push(log),
        }
    }
    let services: BTreeSet<&str> = view.spans.iter().map(|s| &*s.service).collect();
    let hex = console_store::hex(id);
    let body = html! {
        h1 { "Trace " code { (hex) } }
        p.muted {
            (view.spans.len()) " spans, " (view.logs.len()) " log lines, " (millis(end - start))
            " · services: "
            @for service in &services { span.badge.svc { (service) } " " }
        }
        h2 { "Waterfall" }
        table #waterfall {
            thead { tr { th { "span" } th { "service" } th { "duration" } th { "timeline" } } }
            tbody {
                @for (depth, span) in tree_order(&view.spans) {
                    (span_row(depth, span, &scale))
                    @for log in lines_by_span.get(&span.span_id).into_iter().flatten() {
                        (log_row(depth + 1, log, &scale))
                    }
                }
                @for log in &orphan_lines { (log_row(0, log, &scale)) }
            }
        }
        (queries(&groups))
        (exceptions(&view.spans))
    };
    Some(layout(&format!("Trace {hex}"), Nav::None, body))
}

/// Where an instant falls on the waterfall's track.
struct Scale {
    start: u64,
    span: u64,
}

impl Scale {
    fn percent(&self, at: u64) -> f64 {
        (at.saturating_sub(self.start)) as f64 * 100.0 / self.span as f64
    }
}

fn indent(depth: usize) -> String {
    format!("padding-left: {}px", 8 + depth * 16)
}

fn span_row(depth: usize, span: &StoredSpan, scale: &Scale) -> Markup {
    let left = scale.percent(span.start);
    let width = (scale.percent(span.end) - left).max(0.3);
    let bar = format!("left: {left:.3}%; width: {width:.3}%");
    let kind = span.kind.as_str();
    html! {
        tr.span-row data-span-name=(span.name) data-kind=(kind) {
            td style=(indent(depth)) {
                details {
                    summary.wf-name {
                        (span.name)
                        @if span.error.is_some() { " " span.badge.err { "error" } }
                        @if span.attribute("db.n_plus_one.detected") == Some("true") { " " span.badge.n1 { "N+1" } }
                    }
                    p.muted { (kind) " · span " code { (console_store::hex(&span.span_id)) } }
                    @if let Some(error) = &span.error { p.lvl-error { (error) } }
                    (attributes(&span.attributes))
                    @for event in &span.events {
                        p.mono { (time_of_day(event.time)) " event " b { (event.name) } }
                        (attributes(&event.attributes))
                    }
                }
            }
            td { span.badge.svc { (span.service) } }
            td.mono { (millis(span.duration())) }
            td { div.wf-track { div class=(format!("wf-bar {kind}{}", if span.error.is_some() { " error" } else { "" })) style=(bar) {} } }
        }
    }
}

fn log_row(depth: usize, log: &StoredLog, scale: &Scale) -> Markup {
    let mark = format!("left: {:.3}%", scale.percent(log.time));
    let level = log.level.as_str();
    html! {
        tr.log-row {
            td style=(indent(depth)) {
                span class=(format!("lvl-{level}")) { (level) } " "
                span.mono { (log.message) }
                @for (key, value) in &log.attributes {
                    " " span.mono.muted { (key) "=" } span.mono { (value) }
                }
            }
            td { span.badge.svc { (log.service) } }
            td.mono { (time_of_day(log.time)) }
            td { div.wf-track { div.wf-mark style=(mark) {} } }
        }
    }
}

fn queries(groups: &[QueryGroup]) -> Markup {
    html! {
        h2 { "Queries" }
        @if groups.is_empty() {
            p.muted { "No database query in this trace." }
        } @else {
            table #queries {
                thead { tr { th { "count" } th { "fingerprint" } th { "total" } th { "" } } }
                tbody {
                    @for group in groups {
                        tr.n-plus-one[group.n_plus_one] data-count=(group.count) {
                            td.mono { "×" (group.count) }
                            td.mono { (group.fingerprint) }
                            td.mono { (millis(group.total)) }
                            td { @if group.n_plus_one { span.badge.n1 { "N+1" } } }
                        }
                    }
                }
            }
        }
    }
}

fn exceptions(spans: &[StoredSpan]) -> Markup {
    let events: Vec<(&StoredSpan, &console_store::StoredEvent)> = spans
        .iter()
        .flat_map(|span| span.events.iter().map(move |event| (span, event)))
        .filter(|(_, event)| event.name == "exception")
        .collect();
    html! {
        @if !events.is_empty() {
            h2 { "Exceptions" }
            @for (span, event) in events {
                div.exception {
                    p { b { (span.name) } " " span.muted { (time_of_day(event.time)) } }
                    (attributes(&event.attributes))
                }
            }
        }
    }
}
