//! The dev console's store: recent traces (spans and the log lines written
//! in them) and recent log lines outside any trace, in memory, bounded in
//! count and in bytes, the oldest going first.
//!
//! It is fed off the request path: the export thread hands it every batch
//! of spans (already scrubbed) and log lines it drains (the
//! [`BatchTap`](crate::export::BatchTap) it implements), and the console's
//! OTLP receiver adds what other processes send ([`from_otlp`]). The
//! console's pages (`dev_console`, a layer above) read it through
//! [`Store::summaries`], [`Store::trace`] and [`Store::logs`].
//!
//! The one store in force is [`install`]ed by `init()` when
//! `dev_console.enabled`; [`active`] finds it.

mod from_otlp;
mod from_pipeline;
mod ring;
mod summary;

use std::sync::{Arc, Mutex, PoisonError, RwLock};

pub(crate) use from_otlp::{decode_logs, decode_traces};
pub(crate) use ring::Bounds;
pub(crate) use summary::{TraceSummary, is_n_plus_one, is_query};

use crate::export::{BatchTap, FinishedSpan, LineItem};
use ring::Ring;

/// A trace id, as bytes.
pub(crate) type TraceId = [u8; 16];
/// A span id, as bytes.
pub(crate) type SpanId = [u8; 8];

/// The kind of a span, as OpenTelemetry names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SpanKind {
    Internal,
    Server,
    Client,
    Producer,
    Consumer,
}

impl SpanKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            SpanKind::Internal => "internal",
            SpanKind::Server => "server",
            SpanKind::Client => "client",
            SpanKind::Producer => "producer",
            SpanKind::Consumer => "consumer",
        }
    }
}

/// An event of a span (an `exception`, a log line recorded on it).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StoredEvent {
    pub(crate) name: String,
    /// Unix time in nanoseconds.
    pub(crate) time: u64,
    pub(crate) attributes: Vec<(String, String)>,
}

/// A finished span, from this process or another one.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StoredSpan {
    pub(crate) trace_id: TraceId,
    pub(crate) span_id: SpanId,
    pub(crate) parent_span_id: Option<SpanId>,
    /// `service.name` of the process that sent it.
    pub(crate) service: Arc<str>,
    pub(crate) name: String,
    pub(crate) kind: SpanKind,
    /// Unix time in nanoseconds.
    pub(crate) start: u64,
    pub(crate) end: u64,
    /// Attribute values as text, in the order they were recorded.
    pub(crate) attributes: Vec<(String, String)>,
    pub(crate) events: Vec<StoredEvent>,
    /// Status error, with its description (empty when none).
    pub(crate) error: Option<String>,
}

impl StoredSpan {
    /// The value of attribute `key`, if set.
    pub(crate) fn attribute(&self, key: &str) -> Option<&str> {
        attribute(&self.attributes, key)
    }

    /// Its duration in nanoseconds.
    pub(crate) fn duration(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }

    /// What it takes in memory, roughly: the struct and its texts.
    fn bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.name.len()
            + pairs_bytes(&self.attributes)
            + self
                .events
                .iter()
                .map(|e| {
                    std::mem::size_of::<StoredEvent>() + e.name.len() + pairs_bytes(&e.attributes)
                })
                .sum::<usize>()
            + self.error.as_ref().map_or(0, String::len)
    }
}

/// A log line's severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Level {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl Level {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Info => "info",
            Level::Debug => "debug",
            Level::Trace => "trace",
        }
    }

    /// From an OTLP severity number (1–24), else its text.
    pub(crate) fn from_severity(number: i32, text: &str) -> Level {
        match number {
            1..=4 => Level::Trace,
            5..=8 => Level::Debug,
            9..=12 => Level::Info,
            13..=16 => Level::Warn,
            17..=24 => Level::Error,
            _ => match text.to_ascii_lowercase().as_str() {
                "error" | "fatal" => Level::Error,
                "warn" | "warning" => Level::Warn,
                "debug" => Level::Debug,
                "trace" => Level::Trace,
                _ => Level::Info,
            },
        }
    }
}

/// A log line, from this process or another one.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StoredLog {
    /// Unix time in nanoseconds.
    pub(crate) time: u64,
    pub(crate) level: Level,
    /// The logger (`tracing` target).
    pub(crate) target: String,
    pub(crate) message: String,
    pub(crate) attributes: Vec<(String, String)>,
    pub(crate) trace_id: Option<TraceId>,
    pub(crate) span_id: Option<SpanId>,
    pub(crate) service: Arc<str>,
}

impl StoredLog {
    /// The value of attribute `key`, if set.
    pub(crate) fn attribute(&self, key: &str) -> Option<&str> {
        attribute(&self.attributes, key)
    }

    fn bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.target.len()
            + self.message.len()
            + pairs_bytes(&self.attributes)
    }
}

fn attribute<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(name, _)| name == key)
        .map(|(_, value)| value.as_str())
}

fn pairs_bytes(pairs: &[(String, String)]) -> usize {
    pairs
        .iter()
        .map(|(k, v)| std::mem::size_of::<(String, String)>() + k.len() + v.len())
        .sum()
}

/// Every span and log line of one trace, as the trace page shows it.
#[derive(Debug, Clone, Default)]
pub(crate) struct TraceView {
    /// By start time.
    pub(crate) spans: Vec<StoredSpan>,
    /// By time.
    pub(crate) logs: Vec<StoredLog>,
}

/// The store; see the module documentation.
#[derive(Debug)]
pub(crate) struct Store {
    ring: Mutex<Ring>,
    /// `service.name` of this process, for its own spans and lines.
    service: Arc<str>,
}

impl Store {
    pub(crate) fn new(bounds: Bounds, service: &str) -> Store {
        Store {
            ring: Mutex::new(Ring::new(bounds)),
            service: service.into(),
        }
    }

    fn ring(&self) -> std::sync::MutexGuard<'_, Ring> {
        self.ring.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Keeps `spans`, evicting the oldest traces past the bounds.
    pub(crate) fn add_spans(&self, spans: Vec<StoredSpan>) {
        self.ring().add_spans(spans);
    }

    /// Keeps `logs`, evicting the oldest traces past the bounds.
    pub(crate) fn add_logs(&self, logs: Vec<StoredLog>) {
        self.ring().add_logs(logs);
    }

    /// Changes on every addition: the pages poll it to know when to reload.
    pub(crate) fn generation(&self) -> u64 {
        self.ring().generation()
    }

    /// Every kept trace, newest first.
    pub(crate) fn summaries(&self) -> Vec<TraceSummary> {
        self.ring().summaries()
    }

    /// One trace's spans and log lines.
    pub(crate) fn trace(&self, id: &TraceId) -> Option<TraceView> {
        self.ring().trace(id)
    }

    /// The newest `limit` log lines, in traces or not, newest first.
    pub(crate) fn logs(&self, limit: usize) -> Vec<StoredLog> {
        self.ring().logs(limit)
    }

    /// Traces kept and the bytes they (and the untraced lines) take.
    pub(crate) fn usage(&self) -> (usize, usize) {
        self.ring().usage()
    }
}

impl BatchTap for Store {
    fn spans(&self, spans: &[FinishedSpan]) {
        let stored = spans
            .iter()
            .map(|span| from_pipeline::span(span, &self.service))
            .collect();
        self.add_spans(stored);
    }

    fn lines(&self, lines: &[LineItem]) {
        let stored = lines
            .iter()
            .filter_map(|json| from_pipeline::line(json, &self.service))
            .collect();
        self.add_logs(stored);
    }
}

static ACTIVE: RwLock<Option<Arc<Store>>> = RwLock::new(None);

/// Makes `store` the one the console serves (`None`: the console is off).
pub(crate) fn install(store: Option<Arc<Store>>) {
    *ACTIVE.write().unwrap_or_else(PoisonError::into_inner) = store;
}

/// The store in force, when the console is on.
pub(crate) fn active() -> Option<Arc<Store>> {
    ACTIVE
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
}

/// Lowercase hex of an id.
pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len() * 2);
    crate::hex::hex_into(bytes, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// A trace id from its 32 hex digits.
pub(crate) fn parse_trace_id(text: &str) -> Option<TraceId> {
    if text.len() != 32 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut id = [0u8; 16];
    for (i, byte) in id.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(id)
}
