//! The N+1 page (`/o11y/n-plus-one`): the detector's warnings of every
//! process, grouped by scope and fingerprint, with how often, how many
//! queries at worst, how long in total, where the first query was issued,
//! and a link to the latest trace.

use std::collections::BTreeMap;

use maud::html;

use super::{Nav, layout, live, millis, trace_href};
use crate::console_store::{Store, TraceId, is_n_plus_one};

/// Lines searched for detections.
const MAX_LINES: usize = 100_000;

#[derive(Debug, Default)]
struct Group {
    detections: usize,
    most_queries: u64,
    /// Nanoseconds, over every detection.
    total: u64,
    source: Option<String>,
    latest: Option<(u64, TraceId)>,
}

pub(in crate::dev_console) fn page(store: &Store) -> String {
    let generation = store.generation();
    let mut groups: BTreeMap<(String, String), Group> = BTreeMap::new();
    for log in store
        .logs(MAX_LINES)
        .iter()
        .filter(|log| is_n_plus_one(log))
    {
        let key = (
            log.attribute("scope").unwrap_or("").to_owned(),
            log.attribute("fingerprint").unwrap_or("").to_owned(),
        );
        let group = groups.entry(key).or_default();
        group.detections += 1;
        let count = log
            .attribute("count")
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        group.most_queries = group.most_queries.max(count);
        let ms: f64 = log
            .attribute("duration_ms")
            .and_then(|d| d.parse().ok())
            .unwrap_or(0.0);
        group.total += (ms * 1e6) as u64;
        if group.source.is_none() {
            group.source = log.attribute("source").map(str::to_owned);
        }
        if let Some(trace) = log.trace_id
            && group.latest.is_none_or(|(time, _)| log.time > time)
        {
            group.latest = Some((log.time, trace));
        }
    }
    let body = html! {
        h1 { "N+1 queries" }
        p.muted { "Each line: a statement repeated in one scope (a function, a route, a task), as the detector reported it (db.n_plus_one.*)." }
        (live(generation, html! {
            table #n-plus-one {
                thead { tr { th { "scope" } th { "fingerprint" } th { "detections" } th { "queries (most)" } th { "total" } th { "first issued at" } th { "latest trace" } } }
                tbody {
                    @if groups.is_empty() { tr { td colspan="7" .muted { "No N+1 detected." } } }
                    @for ((scope, fingerprint), group) in &groups {
                        tr.n-plus-one {
                            td.mono { (scope) }
                            td.mono { (fingerprint) }
                            td { (group.detections) }
                            td { "×" (group.most_queries) }
                            td.mono { (millis(group.total)) }
                            td.mono { (group.source.as_deref().unwrap_or("unknown")) }
                            td { @if let Some((_, trace)) = &group.latest { a href=(trace_href(trace)) { "open" } } }
                        }
                    }
                }
            }
        }))
    };
    layout("N+1", Nav::NPlusOne, body)
}
