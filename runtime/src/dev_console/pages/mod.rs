//! The console's pages, one module each, and what they share: the layout
//! (navigation, style, the live-reload script), the formatting of times and
//! durations, and the reading of a query string. maud escapes every
//! `(splice)`; only the constant style and script go in unescaped.

pub(super) mod logs;
pub(super) mod metrics;
pub(super) mod n_plus_one;
pub(super) mod requests;
pub(super) mod trace;

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::PREFIX;

const STYLE: &str = r#"
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1d2330; background: #f6f7f9; }
nav { background: #1d2330; padding: 8px 16px; display: flex; gap: 16px; align-items: center; }
nav a { color: #cfd6e4; text-decoration: none; } nav a.on { color: #fff; font-weight: 600; }
nav .brand { color: #fff; font-weight: 700; margin-right: 8px; }
main { padding: 12px 16px; }
h1 { font-size: 18px; margin: 4px 0 12px; } h2 { font-size: 15px; margin: 18px 0 6px; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #e3e6eb; vertical-align: top; }
th { background: #eef0f4; font-weight: 600; }
tr.row-link { cursor: pointer; } tr.row-link:hover { background: #f0f4ff; }
code, .mono { font-family: ui-monospace, monospace; font-size: 12.5px; }
.badge { display: inline-block; padding: 0 6px; border-radius: 8px; font-size: 12px; font-weight: 600; }
.badge.n1 { background: #ffe2b3; color: #7a4100; } .badge.err { background: #ffd4d4; color: #8a0000; }
.badge.svc { background: #e3e9ff; color: #1b2f80; font-weight: 400; }
.lvl-error { color: #b00020; font-weight: 600; } .lvl-warn { color: #a15c00; font-weight: 600; }
.lvl-debug, .lvl-trace { color: #6b7280; }
tr.n-plus-one td { background: #fff4e0; }
form.filters { display: flex; gap: 8px; margin-bottom: 10px; align-items: center; }
form.filters input, form.filters select { padding: 3px 6px; }
.muted { color: #6b7280; }
.wf-name { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; max-width: 420px; }
.wf-track { position: relative; height: 16px; background: #f1f3f6; min-width: 300px; }
.wf-bar { position: absolute; top: 2px; height: 12px; border-radius: 2px; background: #5b7fd6; }
.wf-bar.server { background: #2f9e6e; } .wf-bar.client { background: #d08a2c; }
.wf-bar.producer, .wf-bar.consumer { background: #8a5cc7; } .wf-bar.error { background: #d33; }
.wf-mark { position: absolute; top: 0; width: 2px; height: 16px; background: #444; }
tr.log-row td { background: #fafbfc; font-size: 12.5px; }
details summary { cursor: pointer; }
table.attrs { width: auto; margin: 4px 0 4px 16px; } table.attrs td { border: none; padding: 1px 8px; }
"#;

/// Reloads the element `#live` when the store's generation changes: every
/// two seconds, one small request; the list itself only when it changed.
const LIVE_SCRIPT: &str = r#"
(function () {
  var live = document.getElementById('live');
  if (!live) return;
  var seen = live.getAttribute('data-generation');
  setInterval(function () {
    fetch(live.getAttribute('data-generation-url'), { cache: 'no-store' })
      .then(function (r) { return r.ok ? r.text() : seen; })
      .then(function (generation) {
        if (generation === seen) return;
        seen = generation;
        return fetch(window.location.href, { cache: 'no-store' })
          .then(function (r) { return r.text(); })
          .then(function (text) {
            var fresh = new DOMParser().parseFromString(text, 'text/html').getElementById('live');
            if (fresh) live.innerHTML = fresh.innerHTML;
          });
      })
      .catch(function () {});
  }, 2000);
})();
"#;

/// Makes table rows with `data-href` links.
const ROW_LINK_SCRIPT: &str = r#"
document.addEventListener('click', function (e) {
  var row = e.target.closest('tr[data-href]');
  if (row && !e.target.closest('a')) window.location = row.getAttribute('data-href');
});
"#;

/// The pages of the navigation bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Nav {
    Requests,
    Logs,
    NPlusOne,
    Metrics,
    None,
}

/// A whole page: `title`, the navigation with `nav` marked, `body`.
pub(super) fn layout(title: &str, nav: Nav, body: Markup) -> String {
    let link = |target: Nav, path: &str, label: &str| {
        html! {
            a.on[nav == target] href=(format!("{PREFIX}{path}")) { (label) }
        }
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { (title) " · o11y dev console" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                nav {
                    span.brand { "o11y dev console" }
                    (link(Nav::Requests, "/", "Requests"))
                    (link(Nav::Logs, "/logs", "Logs"))
                    (link(Nav::NPlusOne, "/n-plus-one", "N+1"))
                    (link(Nav::Metrics, "/metrics", "Metrics"))
                }
                main { (body) }
                script { (PreEscaped(ROW_LINK_SCRIPT)) }
                script { (PreEscaped(LIVE_SCRIPT)) }
            }
        }
    }
    .into_string()
}

/// The element the live script reloads when the store's `generation` moves.
pub(super) fn live(generation: u64, content: Markup) -> Markup {
    html! {
        div #live data-generation=(generation) data-generation-url=(format!("{PREFIX}/generation")) {
            (content)
        }
    }
}

/// The link to a trace's page.
pub(super) fn trace_href(trace_id: &[u8; 16]) -> String {
    format!("{PREFIX}/trace/{}", crate::console_store::hex(trace_id))
}

/// A duration given in nanoseconds, in milliseconds.
pub(super) fn millis(nanos: u64) -> String {
    let ms = nanos as f64 / 1e6;
    if ms >= 100.0 {
        format!("{ms:.0} ms")
    } else if ms >= 1.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.3} ms")
    }
}

/// The time of day (UTC) of a Unix time in nanoseconds, to the millisecond.
pub(super) fn time_of_day(nanos: u64) -> String {
    let millis_of_day = (nanos / 1_000_000) % 86_400_000;
    let (h, rest) = (millis_of_day / 3_600_000, millis_of_day % 3_600_000);
    let (m, rest) = (rest / 60_000, rest % 60_000);
    format!("{h:02}:{m:02}:{:02}.{:03}", rest / 1000, rest % 1000)
}

/// The value of `name` in a query string, decoded; empty when absent.
pub(super) fn param(query: &str, name: &str) -> String {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.trim().to_owned())
        .unwrap_or_default()
}

/// `haystack` contains `needle`, ignoring ASCII case.
pub(super) fn contains_ignoring_case(haystack: &str, needle: &str) -> bool {
    needle.is_empty()
        || haystack
            .to_ascii_lowercase()
            .contains(&needle.to_ascii_lowercase())
}

/// Attributes as a small two-column table.
pub(super) fn attributes(pairs: &[(String, String)]) -> Markup {
    html! {
        @if !pairs.is_empty() {
            table.attrs {
                @for (key, value) in pairs {
                    tr { td.mono.muted { (key) } td.mono { (value) } }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_durations_read_well() {
        assert_eq!(millis(1_500_000), "1.5 ms");
        assert_eq!(millis(250_000), "0.250 ms");
        assert_eq!(millis(1_234_000_000), "1234 ms");
        // 1970-01-02 01:02:03.004 UTC
        let nanos = ((86_400 + 3_723) * 1000 + 4) * 1_000_000;
        assert_eq!(time_of_day(nanos), "01:02:03.004");
    }

    #[test]
    fn query_parameters_are_decoded() {
        assert_eq!(param("route=%2Forders&status=5xx", "route"), "/orders");
        assert_eq!(param("q=a+b", "q"), "a b");
        assert_eq!(param("", "q"), "");
    }
}
