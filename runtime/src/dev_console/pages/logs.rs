//! The logs page (`/o11y/logs`): the newest log lines of every process,
//! filtered by level and text, each linking to its trace, reloaded live.

use maud::html;

use super::{Nav, contains_ignoring_case, layout, live, param, time_of_day, trace_href};
use crate::console_store::{Level, Store, StoredLog};

/// Lines looked at, newest first, before filtering.
const MAX_LINES: usize = 1_000;

const LEVELS: [Level; 5] = [
    Level::Error,
    Level::Warn,
    Level::Info,
    Level::Debug,
    Level::Trace,
];

/// The least severe level shown (`level=warn` shows warnings and errors).
fn min_level(query: &str) -> Level {
    let wanted = param(query, "level");
    LEVELS
        .into_iter()
        .find(|level| level.as_str() == wanted)
        .unwrap_or(Level::Trace)
}

fn matches(log: &StoredLog, text: &str) -> bool {
    contains_ignoring_case(&log.message, text)
        || contains_ignoring_case(&log.target, text)
        || log.attributes.iter().any(|(key, value)| {
            contains_ignoring_case(key, text) || contains_ignoring_case(value, text)
        })
}

pub(in crate::dev_console) fn page(store: &Store, query: &str) -> String {
    let level = min_level(query);
    let text = param(query, "q");
    let generation = store.generation();
    let lines: Vec<StoredLog> = store
        .logs(MAX_LINES)
        .into_iter()
        .filter(|log| log.level <= level && (text.is_empty() || matches(log, &text)))
        .collect();
    let body = html! {
        h1 { "Logs" }
        form.filters method="get" {
            select name="level" {
                @for option in LEVELS {
                    option value=(option.as_str()) selected[option == level] { (option.as_str()) " and above" }
                }
            }
            input name="q" placeholder="text" value=(text);
            button type="submit" { "Filter" }
        }
        (live(generation, html! {
            table #logs {
                thead { tr { th { "time" } th { "level" } th { "service" } th { "logger" } th { "message" } th { "trace" } } }
                tbody {
                    @if lines.is_empty() { tr { td colspan="6" .muted { "No log line yet." } } }
                    @for log in &lines {
                        tr {
                            td.mono { (time_of_day(log.time)) }
                            td class=(format!("lvl-{}", log.level.as_str())) { (log.level.as_str()) }
                            td { span.badge.svc { (log.service) } }
                            td.mono.muted { (log.target) }
                            td {
                                span.mono { (log.message) }
                                @for (key, value) in &log.attributes {
                                    " " span.mono.muted { (key) "=" } span.mono { (value) }
                                }
                            }
                            td {
                                @if let Some(trace) = &log.trace_id {
                                    a.mono href=(trace_href(trace)) { (crate::console_store::hex(&trace[..4])) "…" }
                                }
                            }
                        }
                    }
                }
            }
        }))
    };
    layout("Logs", Nav::Logs, body)
}
