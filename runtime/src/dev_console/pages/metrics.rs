//! The metrics page (`/o11y/metrics`): the link-time catalog (name, type,
//! help, labels, where declared) with each series' current value.

use maud::{Markup, html};

use super::{Nav, layout};
use crate::metrics::{METRICS, SeriesValue};

fn series(
    values: &mut Vec<(String, String)>,
    labels: &[&str],
    names: &[&str],
    value: SeriesValue<'_>,
) {
    let set: Vec<String> = names
        .iter()
        .zip(labels)
        .map(|(name, value)| format!("{name}=\"{value}\""))
        .collect();
    let shown = match value {
        SeriesValue::Counter(count, _) => count.to_string(),
        SeriesValue::Gauge(value) => value.to_string(),
        SeriesValue::Histogram(snapshot) => {
            format!("count {} · sum {}", snapshot.count(), snapshot.sum)
        }
    };
    values.push((set.join(", "), shown));
}

pub(in crate::dev_console) fn page() -> String {
    let mut registrations: Vec<_> = METRICS.iter().collect();
    registrations.sort_by_key(|r| r.metric.desc().name);
    let rows: Vec<Markup> = registrations
        .iter()
        .map(|registration| {
            let desc = registration.metric.desc();
            let mut values = Vec::new();
            registration
                .metric
                .visit(&mut |labels, value| series(&mut values, labels, desc.labels, value));
            html! {
                tr data-metric=(desc.name) {
                    td.mono { b { (desc.name) } br; span.muted { (registration.file) ":" (registration.line) } }
                    td { (desc.kind.as_str()) }
                    td { (desc.help) @if let Some(unit) = desc.unit { " " span.muted { "(" (unit) ")" } } }
                    td.mono { (desc.labels.join(", ")) }
                    td {
                        @for (set, value) in &values {
                            div.mono { @if !set.is_empty() { span.muted { "{" (set) "} " } } (value) }
                        }
                    }
                }
            }
        })
        .collect();
    let body = html! {
        h1 { "Metrics" }
        p.muted { (rows.len()) " metrics registered at link time; values as of this page's load." }
        table #metrics {
            thead { tr { th { "name" } th { "type" } th { "help" } th { "labels" } th { "series" } } }
            tbody { @for row in &rows { (row) } }
        }
    };
    layout("Metrics", Nav::Metrics, body)
}
