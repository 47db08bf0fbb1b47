//! Export: the one background thread that ships finished spans and log
//! records to their destinations (OTLP over gRPC or HTTP/protobuf, the
//! stderr console sink, or an exporter given in code).
//!
//! Callers never block: spans and records go into bounded lock-free queues;
//! a full queue drops the item and counts it ([`stats()`]). The thread
//! exports a batch when [`MAX_BATCH`] items are waiting or every
//! [`EXPORT_INTERVAL`], with a deadline per export call, and drains
//! everything on flush and shutdown. OTLP span requests are written
//! straight from the recordings and do not wait for each other: a few are
//! on their way at once, so a collector's answer time does not cap the
//! export rate. With `metrics.otlp_enabled`, it also
//! pushes every registered metric over OTLP on an interval.
//!
//! Before a batch of spans goes anywhere, the export thread scrubs their
//! text with the redaction engine and cuts it to the value length limit
//! (`scrub`), off the request path.
//!
//! Telemetry produced *by* the export thread itself (tonic, hyper, h2 all
//! emit `tracing` events) is suppressed, so exporting never feeds itself.

mod active;
mod console;
mod dynamic;
mod metrics;
mod otlp;
mod resource;
mod scrub;
mod stats;
#[cfg(feature = "tls")]
mod tls;
mod transport;
mod wire;
mod worker;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc as std_mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_queue::ArrayQueue;

use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogProcessor, SdkLogRecord};
use tokio::sync::{Notify, mpsc};

pub use active::flush;
pub(crate) use active::{forget, set_active};
pub use console::ConsoleSpanExporter;
pub use dynamic::{DynLogExporter, DynSpanExporter};
pub(crate) use metrics::MetricsExporter;
pub(crate) use otlp::{OtlpSpanExporter, build_log_exporter};
pub(crate) use resource::resource;
pub use stats::{ExportStats, stats};
#[cfg(feature = "sentry")]
pub(crate) use tls::{HttpsClient, default_client};

/// At most this many spans or log records go into one export call.
pub const MAX_BATCH: usize = 512;
/// A partial batch is exported after at most this long.
pub const EXPORT_INTERVAL: Duration = Duration::from_secs(1);
/// Spans (and, separately, log records) waiting for export; past it they are dropped and counted.
pub const QUEUE_CAPACITY: usize = 4096;
/// One export call may take at most this long before it counts as failed;
/// o11y's OTLP requests (spans, metrics) take `OTEL_EXPORTER_OTLP_TIMEOUT`
/// (or the signal's own variable) instead when it is set.
pub const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

use crate::log::LineTap;
use crate::metrics::own::{SpanDrop, span_dropped};
use crate::redact::Redactor;
use crate::trace::SpanSink;

/// A recorded span that closed, waiting for export.
pub(crate) type FinishedSpan = Box<crate::trace::Recording>;

/// A log line for the dev console's store: its JSON text.
pub(crate) type LineItem = Box<[u8]>;

/// A log record waiting for export, with the scope it was emitted under.
pub(crate) type LogItem = Box<(SdkLogRecord, InstrumentationScope)>;

/// Where the export thread also hands every batch it drains, spans after
/// they are scrubbed: the dev console's store, which lives in a layer above
/// and is given to [`Destinations::tap`] by `init()`. Runs on the export
/// thread, off the request path.
pub(crate) trait BatchTap: Send + Sync {
    /// A batch of finished spans, left as they are for the exporters.
    fn spans(&self, spans: &[FinishedSpan]);
    /// A batch of log lines, each the JSON text the log stage wrote.
    fn lines(&self, lines: &[LineItem]);
}

/// Where finished telemetry goes; built by `init()` from the configuration.
#[derive(Default)]
pub(crate) struct Destinations {
    /// The OTLP span exporter, which reads the recordings themselves.
    pub otlp_spans: Option<OtlpSpanExporter>,
    /// Exporters of the SDK's `SpanData` (the console, ones given in code).
    pub spans: Vec<Box<dyn DynSpanExporter>>,
    pub logs: Vec<Box<dyn DynLogExporter>>,
    /// The OTLP metrics push (`metrics.otlp_enabled`).
    pub metrics: Option<MetricsExporter>,
    /// The dev console's store (`dev_console.enabled`), which sees every
    /// span and log line even with no exporter configured.
    pub tap: Option<Arc<dyn BatchTap>>,
}

/// Builds an exporter; runs on the export thread, inside its Tokio runtime,
/// because the gRPC client must be created within one.
pub(crate) type DestinationsFactory =
    Box<dyn FnOnce() -> Result<Destinations, String> + Send + 'static>;

#[derive(Debug)]
enum Control {
    Flush(std_mpsc::Sender<()>),
    Shutdown(std_mpsc::Sender<()>),
}

/// The queues between the threads that finish spans and log records and
/// the export thread. Lock-free and bounded: a push is one CAS, and the
/// export thread is woken only when a batch is ready (or by its timer), not
/// once per item, which would cost a futex wake per span.
#[derive(Debug)]
pub(crate) struct Queues {
    spans: Option<ArrayQueue<FinishedSpan>>,
    /// Emptied span boxes on their way back from the export thread, so the
    /// threads that record spans reuse them instead of allocating a box that
    /// another thread frees (glibc's arenas make that cross-thread pair slow).
    recycled: ArrayQueue<FinishedSpan>,
    logs: Option<ArrayQueue<LogItem>>,
    /// Log lines for the dev console's store (`dev_console.enabled`).
    lines: Option<ArrayQueue<LineItem>>,
    /// Items pushed so far (every queue): every [`MAX_BATCH`]th push wakes
    /// the export thread. Cheaper than `ArrayQueue::len`, which loops.
    pushed: AtomicUsize,
    batch_ready: Notify,
}

impl Queues {
    #[inline]
    fn pushed_one(&self) {
        if self.pushed.fetch_add(1, Ordering::Relaxed) % MAX_BATCH == MAX_BATCH - 1 {
            self.batch_ready.notify_one();
        }
    }
}

/// The sending side of the pipeline, shared by the span and log layers.
#[derive(Clone, Debug)]
pub(crate) struct ExportQueue {
    queues: Option<Arc<Queues>>,
}

impl ExportQueue {
    /// A queue that accepts nothing: no destination is configured.
    pub(crate) fn none() -> Self {
        ExportQueue { queues: None }
    }

    fn new(spans: bool, logs: bool, lines: bool) -> Self {
        let queues = Queues {
            spans: spans.then(|| ArrayQueue::new(QUEUE_CAPACITY)),
            recycled: ArrayQueue::new(if spans { QUEUE_CAPACITY } else { 1 }),
            logs: logs.then(|| ArrayQueue::new(QUEUE_CAPACITY)),
            lines: lines.then(|| ArrayQueue::new(QUEUE_CAPACITY)),
            pushed: AtomicUsize::new(0),
            batch_ready: Notify::new(),
        };
        ExportQueue {
            queues: Some(Arc::new(queues)),
        }
    }

    /// The span stage's sink: `None` when no span is exported, so that
    /// nothing is recorded.
    pub(crate) fn span_sink(&self) -> Option<Arc<dyn SpanSink>> {
        let queues = self.queues.as_ref().filter(|q| q.spans.is_some())?;
        Some(queues.clone() as Arc<dyn SpanSink>)
    }

    /// The log stage's OTLP records go here, through the SDK's logger.
    pub(crate) fn log_processor(&self) -> impl LogProcessor + 'static {
        QueueProcessor(self.clone())
    }

    /// The log stage's line tap: `None` unless the dev console takes lines.
    pub(crate) fn line_tap(&self) -> Option<Arc<dyn LineTap>> {
        let queues = self.queues.as_ref().filter(|q| q.lines.is_some())?;
        Some(queues.clone() as Arc<dyn LineTap>)
    }

    /// Whether log records are wanted at all.
    pub(crate) fn wants_logs(&self) -> bool {
        self.queues.as_ref().is_some_and(|q| q.logs.is_some())
    }

    pub(crate) fn push_log(&self, item: LogItem) {
        let Some(queues) = &self.queues else { return };
        let Some(logs) = &queues.logs else { return };
        match logs.push(item) {
            Ok(()) => queues.pushed_one(),
            Err(_) => crate::metrics::own::LOGS_DROPPED.inc(),
        }
    }
}

impl SpanSink for Queues {
    #[inline]
    fn recycled(&self) -> Option<FinishedSpan> {
        self.recycled.pop()
    }

    fn push(&self, span: FinishedSpan) {
        let Some(spans) = &self.spans else { return };
        match spans.push(span) {
            Ok(()) => self.pushed_one(),
            Err(_) => span_dropped(SpanDrop::QueueFull, 1),
        }
    }

    fn recycle(&self, mut span: FinishedSpan) {
        span.clear_for_reuse();
        // A full pool: the box is freed instead.
        let _ = self.recycled.push(span);
    }
}

impl LineTap for Queues {
    fn line(&self, json: &[u8]) {
        let Some(lines) = &self.lines else { return };
        match lines.push(json.into()) {
            Ok(()) => self.pushed_one(),
            Err(_) => crate::metrics::own::DEV_CONSOLE_LINES_DROPPED.inc(),
        }
    }
}

/// Hands records created through the SDK's logger to o11y's export queue.
#[derive(Debug)]
struct QueueProcessor(ExportQueue);

impl LogProcessor for QueueProcessor {
    fn emit(&self, record: &mut SdkLogRecord, scope: &InstrumentationScope) {
        self.0.push_log(Box::new((record.clone(), scope.clone())));
    }
    fn force_flush(&self) -> OTelSdkResult {
        Ok(()) // flushing is the export thread's job, driven by the init guard
    }
}

/// Owns the export thread; flushes and stops it on [`Exporter::shutdown`].
#[derive(Debug)]
pub(crate) struct Exporter {
    control: mpsc::UnboundedSender<Control>,
    thread: Option<JoinHandle<()>>,
}

impl Exporter {
    /// Starts the export thread and builds the destinations on it; spans are
    /// scrubbed by `redactor` before they go. Returns the queue to feed and
    /// the handle that stops it.
    pub(crate) fn start(
        factory: DestinationsFactory,
        redactor: &'static Redactor,
    ) -> Result<(ExportQueue, Exporter), String> {
        let (ready_tx, ready_rx) = std_mpsc::channel();
        let (control_tx, control_rx) = mpsc::unbounded_channel();
        let thread = std::thread::Builder::new()
            .name("o11y-export".into())
            .spawn(move || worker::run(factory, redactor, control_rx, ready_tx))
            .map_err(|e| format!("cannot start the export thread: {e}"))?;
        let queue = match ready_rx.recv() {
            Ok(result) => result?,
            Err(_) => return Err("the export thread stopped while starting".into()),
        };
        let exporter = Exporter {
            control: control_tx,
            thread: Some(thread),
        };
        Ok((queue, exporter))
    }

    /// Exports everything queued so far; waits at most `timeout`.
    /// Returns false when the deadline passed first.
    pub(crate) fn flush(&self, timeout: Duration) -> bool {
        self.request(Control::Flush, timeout)
    }

    /// Drains the queues, exports, shuts the destinations down and stops the
    /// thread; waits at most `timeout`. Returns false when the deadline passed.
    pub(crate) fn shutdown(&mut self, timeout: Duration) -> bool {
        let done = self.request(Control::Shutdown, timeout);
        if done && let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        done
    }

    fn request(&self, make: fn(std_mpsc::Sender<()>) -> Control, timeout: Duration) -> bool {
        let (done_tx, done_rx) = std_mpsc::channel();
        if self.control.send(make(done_tx)).is_err() {
            return true; // already stopped: nothing left to export
        }
        done_rx.recv_timeout(timeout).is_ok()
    }
}
