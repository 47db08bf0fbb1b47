//! Prometheus 2.42 with exemplar storage. The default config scrapes only
//! what a test adds with [`Prometheus::add_scrape_target`] (file_sd JSON in
//! `<workdir>/targets/`, picked up within ~1 s; job label `o11y`). A custom
//! config comes from `O11Y_PROMETHEUS_CONFIG` (see `scripts/peers/prometheus.sh`).

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use super::http::{self, HttpResponse, urlencode};
use super::{PeerProcess, peer_report, wait_until};

/// A running Prometheus (see the module doc of `common`).
pub struct Prometheus {
    peer: PeerProcess,
}

impl Prometheus {
    /// Start Prometheus on a free port; `None` if not installed.
    pub fn start() -> Option<Prometheus> {
        PeerProcess::start("prometheus", 1).map(|peer| Prometheus { peer })
    }

    /// The port Prometheus listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.peer.port(0)
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port())
    }

    /// The peer's directory (config, `targets/`, log).
    pub fn workdir(&self) -> &Path {
        self.peer.workdir()
    }

    /// Scrape `host_port` (e.g. `127.0.0.1:8080`, path `/metrics`) every
    /// `interval` (timeout = interval). Replaces an earlier target of the
    /// same address.
    pub fn add_scrape_target(&self, host_port: &str, interval: Duration) {
        self.add_scrape_target_with_labels(host_port, interval, &[]);
    }

    /// Like [`Prometheus::add_scrape_target`], with extra target labels;
    /// `("__metrics_path__", "/other")` changes the scraped path.
    pub fn add_scrape_target_with_labels(
        &self,
        host_port: &str,
        interval: Duration,
        labels: &[(&str, &str)],
    ) {
        let every = format!("{}ms", interval.as_millis().max(1));
        let mut l = serde_json::Map::new();
        l.insert("__scrape_interval__".into(), Value::from(every.clone()));
        l.insert("__scrape_timeout__".into(), Value::from(every));
        for (k, v) in labels {
            l.insert((*k).into(), Value::from(*v));
        }
        let doc = serde_json::json!([{ "targets": [host_port], "labels": l }]);
        let dir = self.workdir().join("targets");
        let name = target_file_name(host_port);
        let tmp = dir.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, doc.to_string()).expect("write file_sd target");
        std::fs::rename(&tmp, dir.join(&name)).expect("rename file_sd target");
    }

    /// Stop scraping `host_port`.
    pub fn remove_scrape_target(&self, host_port: &str) {
        let _ = std::fs::remove_file(
            self.workdir()
                .join("targets")
                .join(target_file_name(host_port)),
        );
    }

    /// `GET <url><path_and_query>`; panics if the request fails.
    pub fn get(&self, path_and_query: &str) -> HttpResponse {
        http::get(&format!("{}{path_and_query}", self.url()))
            .unwrap_or_else(|e| panic!("GET {path_and_query} from prometheus: {e}"))
    }

    /// An instant query: the whole API answer (`{"status": "success",
    /// "data": {"resultType", "result"}}`). Panics unless status is success.
    pub fn query(&self, promql: &str) -> Value {
        let r = self.get(&format!("/api/v1/query?query={}", urlencode(promql)));
        let v = r.json();
        assert_eq!(
            v["status"],
            "success",
            "prometheus query {promql:?} failed (HTTP {}): {}",
            r.status,
            r.text()
        );
        v
    }

    /// An instant query's `data.result` (the series of a vector).
    pub fn query_vector(&self, promql: &str) -> Vec<Value> {
        self.query(promql)["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// An instant query's `data.result` at `time` (seconds since the epoch,
    /// e.g. [`unix_now`](crate::unix_now) while the target was served).
    /// Panics unless status is success.
    pub fn query_vector_at(&self, promql: &str, time: f64) -> Vec<Value> {
        let answer = self
            .get(&format!(
                "/api/v1/query?query={}&time={time:.3}",
                urlencode(promql)
            ))
            .json();
        assert_eq!(answer["status"], "success", "{promql}: {answer}");
        answer["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Re-run `promql` every 50 ms until `pred` accepts its `data.result`;
    /// panics after `timeout` with the last result and the scrape targets.
    pub fn wait_for_query(
        &self,
        promql: &str,
        timeout: Duration,
        pred: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        wait_until(
            timeout,
            || self.query_vector(promql),
            |v| pred(v),
            |v| {
                format!(
                    "prometheus: {promql:?} gave {}\ntargets: {}{}",
                    Value::from(v.clone()),
                    self.get("/api/v1/targets").text(),
                    peer_report(self.workdir(), "prometheus.log")
                )
            },
        )
    }

    /// `GET /api/v1/query_exemplars` for `promql` over the last `window`.
    pub fn query_exemplars(&self, promql: &str, window: Duration) -> Value {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        let start = now - window.as_secs_f64();
        let r = self.get(&format!(
            "/api/v1/query_exemplars?query={}&start={start:.3}&end={:.3}",
            urlencode(promql),
            now + 1.0
        ));
        r.json()
    }

    /// `POST /-/reload` (after editing `<workdir>/prometheus.yml`).
    pub fn reload(&self) {
        let r = http::request("POST", &format!("{}/-/reload", self.url()), &[], &[])
            .expect("POST /-/reload");
        assert_eq!(r.status, 200, "reload failed: {}", r.text());
    }
}

fn target_file_name(host_port: &str) -> String {
    let safe: String = host_port
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("{safe}.json")
}
