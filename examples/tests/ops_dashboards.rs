//! The dashboards `O11Y_COMMAND=dashboards` writes for the quickstart,
//! against a real Prometheus that scraped the quickstart (run as its own
//! process) during its demo traffic, with the generated rules loaded (the
//! SLO dashboard reads their recordings): every query of every panel and
//! every variable runs without error, and every panel whose metrics the
//! traffic produced shows data. And each dashboard has what Grafana needs
//! to load it (no published JSON schema of the dashboard model is on a
//! registry here: npm's `@grafana/schema` carries TypeScript types only).

mod ops;

use o11y_test_support as common;

use std::collections::{BTreeSet, HashSet};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

use common::Prometheus;
use common::http::urlencode;
use serde_json::Value;

/// The quickstart serving on a port, killed when dropped.
struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Grafana's variables as a query of "All" reads them.
fn substitute(expr: &str) -> String {
    let mut text = expr
        .replace("$__rate_interval", "1m")
        .replace("$__range", "10m");
    for variable in [
        "job", "instance", "route", "method", "module", "function", "task", "slo",
    ] {
        text = text.replace(&format!("${variable}"), ".*");
    }
    assert!(!text.contains('$'), "a variable left in {text}");
    text
}

/// Metric names a query reads: the words right before a `{`.
fn metric_names(expr: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (i, _) in expr.match_indices('{') {
        let start = expr[..i]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .map_or(0, |p| p + 1);
        if start < i {
            names.insert(expr[start..i].to_owned());
        }
    }
    names
}

/// An instant query: its result, or the error Prometheus answered.
fn query(prometheus: &Prometheus, promql: &str) -> Result<Vec<Value>, String> {
    let response = prometheus.get(&format!("/api/v1/query?query={}", urlencode(promql)));
    let answer = response.json();
    if answer["status"] != "success" {
        return Err(format!("HTTP {}: {}", response.status, response.text()));
    }
    Ok(answer["data"]["result"]
        .as_array()
        .cloned()
        .unwrap_or_default())
}

fn dashboards(dir: &Path) -> Vec<(String, Value)> {
    let mut boards: Vec<(String, Value)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, serde_json::from_str(&text).unwrap())
        })
        .collect();
    boards.sort_by(|a, b| a.0.cmp(&b.0));
    boards
}

#[test]
fn every_panel_query_runs_on_prometheus_after_the_demo_traffic_and_shows_its_data() {
    let Some(prometheus) = Prometheus::start() else {
        return;
    };
    let dir = ops::scratch("ops-dashboards");
    let boards_dir = dir.join("dashboards");
    ops::run_command(
        "dashboards",
        &format!("--out {}", boards_dir.display()),
        &dir,
    );
    // The rules, loaded: the SLO dashboard reads their recordings.
    let rules = prometheus.workdir().join("o11y-rules.yml");
    ops::run_command("rules", &format!("--out {}", rules.display()), &dir);
    let config = prometheus.workdir().join("prometheus.yml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!("rule_files: ['{}']\n", rules.display()));
    std::fs::write(&config, text).unwrap();
    prometheus.reload();

    let port = common::free_port();
    let served = Served(
        ops::quickstart(&dir)
            .env("PORT", port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting the quickstart"),
    );
    let base = format!("http://127.0.0.1:{port}");
    common::wait_until(
        Duration::from_secs(60),
        || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok(),
        |up| *up,
        |_| format!("the quickstart is not listening on {port}"),
    );
    prometheus.add_scrape_target(&format!("127.0.0.1:{port}"), Duration::from_secs(1));
    // Scraped before the traffic, so that every counter is seen rising.
    prometheus.wait_for_query(
        &format!("up{{instance=\"127.0.0.1:{port}\"}} == 1"),
        Duration::from_secs(30),
        |v| !v.is_empty(),
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    for _ in 0..3 {
        runtime
            .block_on(o11y_examples::demo::run(&base))
            .expect("demo traffic");
        std::thread::sleep(Duration::from_secs(2));
    }
    prometheus.wait_for_query(
        "o11y:slo_error:ratio_rate5m",
        Duration::from_secs(30),
        |v| !v.is_empty(),
    );
    // Two more scrapes after the last requests, for the rates.
    std::thread::sleep(Duration::from_secs(3));

    let mut present: HashSet<String> = HashSet::new();
    let mut missing: HashSet<String> = HashSet::new();
    let mut exists = |name: &str| {
        if present.contains(name) {
            return true;
        }
        if missing.contains(name) {
            return false;
        }
        let found = !query(&prometheus, &format!("count({{__name__=\"{name}\"}})"))
            .unwrap()
            .is_empty();
        if found { &mut present } else { &mut missing }.insert(name.to_owned());
        found
    };
    let mut errors = Vec::new();
    let (mut with_data, mut without_metrics) = (Vec::new(), Vec::new());
    for (file, board) in dashboards(&boards_dir) {
        for variable in board["templating"]["list"].as_array().unwrap() {
            let Some(definition) = variable["definition"].as_str() else {
                continue;
            };
            // label_values(series, label) → the series' label values.
            let inner = &definition["label_values(".len()..definition.len() - 1];
            let (series, label) = inner.rsplit_once(", ").unwrap();
            let promql = substitute(&format!("count by ({label}) ({series})"));
            match query(&prometheus, &promql) {
                Err(error) => errors.push(format!(
                    "{file} variable {}: {promql}: {error}",
                    variable["name"]
                )),
                Ok(values)
                    if values.is_empty() && metric_names(series).iter().all(|n| exists(n)) =>
                {
                    errors.push(format!(
                        "{file} variable {}: {promql} has no values",
                        variable["name"]
                    ))
                }
                Ok(_) => {}
            }
        }
        for panel in board["panels"].as_array().unwrap() {
            if panel["type"] == "row" {
                continue;
            }
            let title = format!("{file}: {}", panel["title"].as_str().unwrap());
            let mut names = BTreeSet::new();
            let mut data = false;
            for target in panel["targets"].as_array().unwrap() {
                let expr = target["expr"].as_str().unwrap();
                names.extend(metric_names(expr));
                let promql = substitute(expr);
                match query(&prometheus, &promql) {
                    Ok(values) => data |= !values.is_empty(),
                    Err(error) => errors.push(format!("{title}: {promql}: {error}")),
                }
            }
            let produced = names.iter().all(|name| exists(name));
            if produced && !data {
                errors.push(format!("{title}: no data, though {names:?} were scraped"));
            } else if produced {
                with_data.push(title);
            } else {
                without_metrics.push(format!("{title} ({names:?})"));
            }
        }
    }
    drop(served);
    common::stderr_line(&format!(
        "panels with data: {}; panels whose metrics the demo traffic does not produce: {}",
        with_data.len(),
        without_metrics.join("; ")
    ));
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    // What the tour exercises shows on each dashboard.
    for expected in [
        "o11y-overview.json: Request rate by route",
        "o11y-overview.json: Latency p50/p95/p99 by route",
        "o11y-overview.json: Most failing routes (5xx over the range)",
        "o11y-functions.json: Error ratio by function",
        "o11y-database.json: N+1 detections by scope",
        "o11y-database.json: Migrations pending",
        "o11y-tasks.json: Runs by outcome",
        "o11y-application.json: Orders placed through the API",
        "o11y-slo.json: Error budget left (30 days)",
        "o11y-slo.json: Burn rate (page windows: 1h, 6h)",
        "o11y-o11y.json: Spans",
    ] {
        assert!(
            with_data.iter().any(|t| t == expected),
            "{expected} has no data: {with_data:?}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn each_dashboard_has_what_grafana_needs_to_load_it() {
    let dir = ops::scratch("ops-dashboard-model");
    ops::run_command("dashboards", &format!("--out {}", dir.display()), &dir);
    let boards = dashboards(&dir);
    let files: Vec<&str> = boards.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        files,
        [
            "o11y-application.json",
            "o11y-database.json",
            "o11y-functions.json",
            "o11y-o11y.json",
            "o11y-overview.json",
            "o11y-slo.json",
            "o11y-tasks.json"
        ]
    );
    let mut uids = HashSet::new();
    for (file, board) in &boards {
        let uid = board["uid"].as_str().unwrap();
        assert!(uid.len() <= 40 && !uid.is_empty(), "{file}: uid {uid}");
        assert!(uids.insert(uid.to_owned()), "{file}: uid {uid} twice");
        assert!(
            board["title"]
                .as_str()
                .is_some_and(|t| t.starts_with("quickstart / ")),
            "{file}"
        );
        assert_eq!(board["schemaVersion"], 39, "{file}");
        assert_eq!(board["__inputs"][0]["name"], "DS_PROMETHEUS", "{file}");
        assert_eq!(board["__inputs"][0]["pluginId"], "prometheus", "{file}");
        let variables = board["templating"]["list"].as_array().unwrap();
        let names: Vec<&str> = variables
            .iter()
            .map(|v| v["name"].as_str().unwrap())
            .collect();
        assert_eq!(&names[..2], ["datasource", "traces"], "{file}");
        assert_eq!(variables[0]["type"], "datasource");
        assert_eq!(variables[0]["current"]["value"], "${DS_PROMETHEUS}");
        let panels = board["panels"].as_array().unwrap();
        assert!(!panels.is_empty(), "{file}");
        let mut ids = HashSet::new();
        let mut cells = HashSet::new();
        for panel in panels {
            let id = panel["id"].as_u64().unwrap();
            assert!(ids.insert(id), "{file}: panel id {id} twice");
            let grid = &panel["gridPos"];
            let (x, y, w, h) = (
                grid["x"].as_u64().unwrap(),
                grid["y"].as_u64().unwrap(),
                grid["w"].as_u64().unwrap(),
                grid["h"].as_u64().unwrap(),
            );
            assert!(
                w >= 1 && h >= 1 && x + w <= 24,
                "{file}: panel {id} at {grid}"
            );
            for cell in (x..x + w).flat_map(|cx| (y..y + h).map(move |cy| (cx, cy))) {
                assert!(
                    cells.insert(cell),
                    "{file}: panel {id} overlaps another at {cell:?}"
                );
            }
            let kind = panel["type"].as_str().unwrap();
            assert!(
                ["row", "timeseries", "stat", "table"].contains(&kind),
                "{file}: {kind}"
            );
            if kind == "row" {
                continue;
            }
            assert!(
                panel["title"].as_str().is_some_and(|t| !t.is_empty()),
                "{file}: {id}"
            );
            assert_eq!(panel["datasource"]["uid"], "${datasource}", "{file}: {id}");
            let targets = panel["targets"].as_array().unwrap();
            assert!(!targets.is_empty(), "{file}: panel {id} has no query");
            let mut refs = HashSet::new();
            for target in targets {
                assert!(
                    refs.insert(target["refId"].as_str().unwrap()),
                    "{file}: {id}"
                );
                assert_eq!(target["datasource"]["uid"], "${datasource}");
                assert!(target["expr"].as_str().is_some_and(|e| !e.is_empty()));
            }
            // Latency panels ask for exemplars and link them to the trace datasource.
            if targets.iter().any(|t| t["exemplar"] == true) {
                let link = panel["fieldConfig"]["defaults"]["links"][0]["url"]
                    .as_str()
                    .unwrap();
                assert!(
                    link.contains("${traces}") && link.contains("trace_id"),
                    "{file}: {link}"
                );
            }
        }
    }
    let overview = &boards
        .iter()
        .find(|(f, _)| f == "o11y-overview.json")
        .unwrap()
        .1;
    let names: Vec<&str> = overview["templating"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["datasource", "traces", "job", "instance", "route", "method"]
    );
    let _ = std::fs::remove_dir_all(&dir);
}
