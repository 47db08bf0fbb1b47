//! rotel, an OTLP collector: receives OTLP gRPC and HTTP, and its Python
//! processors (`scripts/peers/rotel_processor.py`) append what arrived to
//! JSONL files in the peer's workdir, one flat JSON object per span, log
//! record and metric data point. The shapes are documented at the top of
//! `rotel_processor.py`; rotel batches for ~200 ms before they are written.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use super::{PeerProcess, peer_report, read_jsonl, wait_until};

/// A running rotel (see the module doc of `common`).
pub struct Rotel {
    peer: PeerProcess,
}

impl Rotel {
    /// Start rotel on two free ports (gRPC, HTTP); `None` if not installed.
    pub fn start() -> Option<Rotel> {
        PeerProcess::start("rotel", 2).map(|peer| Rotel { peer })
    }

    /// The OTLP/gRPC port (127.0.0.1).
    pub fn grpc_port(&self) -> u16 {
        self.peer.port(0)
    }

    /// The OTLP/HTTP port (127.0.0.1).
    pub fn http_port(&self) -> u16 {
        self.peer.port(1)
    }

    /// `http://127.0.0.1:<grpc port>`: OTLP/gRPC.
    pub fn grpc_endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.grpc_port())
    }

    /// `http://127.0.0.1:<http port>`: OTLP/HTTP (`/v1/traces`, `/v1/logs`,
    /// `/v1/metrics`; protobuf or JSON).
    pub fn http_endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port())
    }

    /// The peer's directory (the JSONL files, rotel's log).
    pub fn workdir(&self) -> &Path {
        self.peer.workdir()
    }

    fn file(&self, name: &str) -> PathBuf {
        self.workdir().join(name)
    }

    /// Every span received so far (see `rotel_processor.py` for the shape).
    pub fn spans(&self) -> Vec<Value> {
        read_jsonl(&self.file("spans.jsonl"))
    }

    /// Every log record received so far.
    pub fn logs(&self) -> Vec<Value> {
        read_jsonl(&self.file("logs.jsonl"))
    }

    /// Every metric data point received so far.
    pub fn metrics(&self) -> Vec<Value> {
        read_jsonl(&self.file("metrics.jsonl"))
    }

    /// Forget what was received so far (truncates the JSONL files).
    pub fn clear(&self) {
        for f in ["spans.jsonl", "logs.jsonl", "metrics.jsonl"] {
            std::fs::write(self.file(f), "").expect("truncate jsonl");
        }
    }

    /// rotel's own log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.file("rotel.log")).unwrap_or_default()
    }

    /// Poll spans every 50 ms until `pred` accepts them; panics after
    /// `timeout` showing what did arrive.
    pub fn wait_for_spans(&self, timeout: Duration, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        self.wait_for("spans", timeout, || self.spans(), pred)
    }

    /// Like [`Rotel::wait_for_spans`], for log records.
    pub fn wait_for_logs(&self, timeout: Duration, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        self.wait_for("log records", timeout, || self.logs(), pred)
    }

    /// Like [`Rotel::wait_for_spans`], for metric data points.
    pub fn wait_for_metrics(
        &self,
        timeout: Duration,
        pred: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        self.wait_for("metric data points", timeout, || self.metrics(), pred)
    }

    fn wait_for(
        &self,
        what: &str,
        timeout: Duration,
        read: impl FnMut() -> Vec<Value>,
        pred: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        wait_until(
            timeout,
            read,
            |v| pred(v),
            |v| {
                let mut s = format!(
                    "rotel: no match among the {} {what} received (in {}):",
                    v.len(),
                    self.workdir().display()
                );
                for item in v.iter().take(50) {
                    s.push_str("\n  ");
                    s.push_str(&item.to_string());
                }
                if v.len() > 50 {
                    s.push_str(&format!("\n  ... and {} more", v.len() - 50));
                }
                s + &peer_report(self.workdir(), "rotel.log")
            },
        )
    }
}
