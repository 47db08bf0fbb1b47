//! The requests page (`/o11y/`): every kept trace, newest first, one line
//! each (method, route, status, duration, queries, N+1 and error badges),
//! filtered by route, status and text, reloaded live.

use maud::{Markup, html};

use super::{Nav, contains_ignoring_case, layout, live, millis, param, time_of_day, trace_href};
use crate::console_store::{Store, TraceSummary};

/// At most this many lines: the page is for what just happened.
const MAX_ROWS: usize = 500;

/// What the filter form asks for.
#[derive(Debug, Default, PartialEq)]
pub(in crate::dev_console) struct Filter {
    /// A part of the route (or the entry span's name).
    route: String,
    /// `200`, `4xx`, `5xx`, …: a status, or a class of them.
    status: String,
    /// A part of the method, route, URL, name, service or trace id.
    text: String,
}

impl Filter {
    pub(in crate::dev_console) fn from_query(query: &str) -> Filter {
        Filter {
            route: param(query, "route"),
            status: param(query, "status"),
            text: param(query, "q"),
        }
    }

    pub(in crate::dev_console) fn matches(&self, summary: &TraceSummary) -> bool {
        let route = summary.route.as_deref().unwrap_or(&summary.name);
        if !contains_ignoring_case(route, &self.route) {
            return false;
        }
        if !self.status.is_empty() {
            let Some(status) = summary.status else {
                return false;
            };
            let wanted = self.status.to_ascii_lowercase();
            let shown = status.to_string();
            let class_matches =
                wanted.len() == 3 && wanted.ends_with("xx") && shown.starts_with(&wanted[..1]);
            if shown != wanted && !class_matches {
                return false;
            }
        }
        if self.text.is_empty() {
            return true;
        }
        let id = crate::console_store::hex(&summary.trace_id);
        [
            summary.method.as_deref().unwrap_or(""),
            route,
            summary.url.as_deref().unwrap_or(""),
            &summary.name,
            &summary.service,
            &id,
        ]
        .iter()
        .any(|field| contains_ignoring_case(field, &self.text))
    }
}

pub(in crate::dev_console) fn page(store: &Store, query: &str) -> String {
    let filter = Filter::from_query(query);
    let generation = store.generation();
    let all = store.summaries();
    let shown: Vec<&TraceSummary> = all
        .iter()
        .filter(|s| filter.matches(s))
        .take(MAX_ROWS)
        .collect();
    let (traces, bytes) = store.usage();
    let body = html! {
        h1 { "Requests" }
        form.filters method="get" {
            input name="route" placeholder="route contains" value=(filter.route);
            input name="status" placeholder="status: 200, 4xx, 5xx" size="14" value=(filter.status);
            input name="q" placeholder="text" value=(filter.text);
            button type="submit" { "Filter" }
            span.muted { (traces) " traces kept, about " (bytes / 1024) " KiB" }
        }
        (live(generation, rows(&shown)))
    };
    layout("Requests", Nav::Requests, body)
}

fn rows(shown: &[&TraceSummary]) -> Markup {
    html! {
        table #requests {
            thead { tr {
                th { "time" } th { "service" } th { "method" } th { "route" } th { "status" }
                th { "duration" } th { "queries" } th { "" }
            } }
            tbody {
                @if shown.is_empty() {
                    tr { td colspan="8" .muted { "Nothing yet: send a request to the application." } }
                }
                @for summary in shown {
                    (row(summary))
                }
            }
        }
    }
}

fn row(summary: &TraceSummary) -> Markup {
    let href = trace_href(&summary.trace_id);
    let route = summary.route.as_deref().unwrap_or(&summary.name);
    html! {
        tr.row-link data-href=(href) data-trace-id=(crate::console_store::hex(&summary.trace_id))
            data-method=(summary.method.as_deref().unwrap_or("")) data-route=(route)
            data-status=(summary.status.map(|s| s.to_string()).unwrap_or_default()) {
            td.mono { (time_of_day(summary.start)) }
            td { span.badge.svc { (summary.service) } }
            td { (summary.method.as_deref().unwrap_or("")) }
            td { a href=(href) title=(summary.url.as_deref().unwrap_or("")) { (route) } }
            td { @if let Some(status) = summary.status { (status) } }
            td.mono { (millis(summary.duration)) }
            td { (summary.queries) }
            td {
                @if summary.n_plus_one { span.badge.n1 title="an N+1 query pattern was detected" { "N+1" } " " }
                @if summary.error { span.badge.err { "error" } }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn summary(route: &str, status: Option<u16>) -> TraceSummary {
        TraceSummary {
            trace_id: [0xab; 16],
            start: 0,
            duration: 0,
            name: "GET".into(),
            service: Arc::from("quickstart"),
            method: Some("GET".into()),
            route: Some(route.into()),
            url: Some("/orders/7?expand=items".into()),
            status,
            queries: 0,
            spans: 1,
            n_plus_one: false,
            error: false,
        }
    }

    #[test]
    fn the_filter_matches_route_status_class_and_text() {
        let orders = summary("/orders/{id}", Some(404));
        assert!(Filter::from_query("").matches(&orders));
        assert!(Filter::from_query("route=ORDERS").matches(&orders));
        assert!(!Filter::from_query("route=boom").matches(&orders));
        assert!(Filter::from_query("status=404").matches(&orders));
        assert!(Filter::from_query("status=4xx").matches(&orders));
        assert!(!Filter::from_query("status=5xx").matches(&orders));
        assert!(!Filter::from_query("status=200").matches(&orders));
        assert!(!Filter::from_query("status=4xx").matches(&summary("/x", None)));
        assert!(Filter::from_query("q=quickstart").matches(&orders));
        assert!(Filter::from_query("q=abab").matches(&orders), "trace id");
        assert!(Filter::from_query("q=expand").matches(&orders), "the URL");
        assert!(!Filter::from_query("q=nothing").matches(&orders));
    }
}
