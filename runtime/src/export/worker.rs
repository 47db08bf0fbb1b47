//! The export thread's loop: a current-thread Tokio runtime (the gRPC and
//! async HTTP clients need one) that batches queued spans and log records and
//! hands them to every destination.

use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use crossbeam_queue::ArrayQueue;

use opentelemetry_sdk::trace::SpanData;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::metrics::MetricsPush;
use super::scrub;
use super::{
    Control, Destinations, DestinationsFactory, EXPORT_INTERVAL, EXPORT_TIMEOUT, ExportQueue,
    FinishedSpan, LineItem, LogItem, MAX_BATCH, Queues,
};
use crate::metrics::own::{
    LOG_EXPORT_ERRORS, LOGS_DROPPED, LOGS_EXPORTED, SPAN_EXPORT_ERRORS, SPANS_EXPORTED, SpanDrop,
    span_dropped,
};
use crate::redact::Redactor;
use crate::stderr_report::StderrReport;

/// A failed export is reported at most this often, so a collector that is
/// down does not flood the logs.
const ERROR_REPORT_INTERVAL: Duration = Duration::from_secs(30);

pub(super) fn run(
    factory: DestinationsFactory,
    redactor: &'static Redactor,
    mut control: mpsc::UnboundedReceiver<Control>,
    ready: std_mpsc::Sender<Result<ExportQueue, String>>,
) {
    crate::export_thread::mark_export_thread();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            let _ = ready.send(Err(format!("cannot start the export runtime: {e}")));
            return;
        }
    };
    runtime.block_on(async move {
        let mut destinations = match factory() {
            Ok(destinations) => destinations,
            Err(e) => {
                let _ = ready.send(Err(e));
                return;
            }
        };
        let tapped = destinations.tap.is_some();
        let queue = ExportQueue::new(
            destinations.otlp_spans.is_some() || !destinations.spans.is_empty() || tapped,
            !destinations.logs.is_empty(),
            tapped,
        );
        let _ = ready.send(Ok(queue.clone()));
        let Some(queues) = queue.queues else { return };

        let mut metrics = destinations.metrics.take().map(MetricsPush::new);
        let mut batcher = Batcher::new(destinations, redactor);
        let mut tick = tokio::time::interval(EXPORT_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = queues.batch_ready.notified() => batcher.export_all(&queues).await,
                _ = tick.tick() => batcher.export_all(&queues).await,
                _ = MetricsPush::tick(&mut metrics) => {
                    if let Some(metrics) = &mut metrics { metrics.start(); }
                }
                message = control.recv() => {
                    batcher.export_all(&queues).await;
                    batcher.drain_in_flight().await;
                    if let Some(metrics) = &mut metrics { metrics.push_now().await; }
                    match message {
                        Some(Control::Flush(done)) => { let _ = done.send(()); }
                        Some(Control::Shutdown(done)) => {
                            batcher.shutdown();
                            let _ = done.send(());
                            break;
                        }
                        None => { batcher.shutdown(); break; }
                    }
                }
            }
        }
    });
}

/// Moves up to a batch from the queue; true when more is waiting.
fn take_batch<T>(queue: Option<&ArrayQueue<T>>, into: &mut Vec<T>) -> bool {
    let Some(queue) = queue else { return false };
    while into.len() < MAX_BATCH {
        match queue.pop() {
            Some(item) => into.push(item),
            None => return false,
        }
    }
    !queue.is_empty()
}

/// OTLP span requests on their way at once. One at a time, a collector's
/// answer time caps the export rate (512 spans per round trip: 50 000 spans
/// a second at 10 ms); with a few in flight, a slow or distant collector is
/// sent the next batches while it answers the first.
const MAX_IN_FLIGHT: usize = 4;

struct Batcher {
    destinations: Destinations,
    /// What spans are scrubbed by before they go.
    redactor: &'static Redactor,
    spans: Vec<FinishedSpan>,
    logs: Vec<LogItem>,
    /// Log lines for the dev console's store.
    lines: Vec<LineItem>,
    /// OTLP span requests sent and not answered yet: each yields its span
    /// count and how it ended.
    in_flight: JoinSet<(u64, Result<(), String>)>,
    errors: StderrReport,
}

impl Batcher {
    fn new(destinations: Destinations, redactor: &'static Redactor) -> Self {
        Batcher {
            destinations,
            redactor,
            spans: Vec::new(),
            logs: Vec::new(),
            lines: Vec::new(),
            in_flight: JoinSet::new(),
            errors: StderrReport::every(ERROR_REPORT_INTERVAL),
        }
    }

    /// Waits for every request in flight (flush, shutdown).
    async fn drain_in_flight(&mut self) {
        while let Some(joined) = self.in_flight.join_next().await {
            self.settle(joined);
        }
    }

    /// Counts the requests that were answered already.
    fn settle_answered(&mut self) {
        while let Some(joined) = self.in_flight.try_join_next() {
            self.settle(joined);
        }
    }

    fn settle(&mut self, joined: Result<(u64, Result<(), String>), tokio::task::JoinError>) {
        let (count, result) = match joined {
            Ok(ended) => ended,
            // A send that panicked: its count is unknown, its error is not.
            Err(e) => (0, Err(format!("the export task failed: {e}"))),
        };
        self.count_spans(count, result);
    }

    fn count_spans(&mut self, count: u64, result: Result<(), String>) {
        match result {
            Ok(()) => SPANS_EXPORTED.inc_by(count),
            Err(error) => {
                SPAN_EXPORT_ERRORS.inc();
                span_dropped(SpanDrop::ExportFailed, count);
                self.report("spans", count, &error);
            }
        }
    }

    /// Exports everything queued, a batch at a time.
    async fn export_all(&mut self, queues: &Queues) {
        self.settle_answered();
        loop {
            let more_spans = take_batch(queues.spans.as_ref(), &mut self.spans);
            if !self.spans.is_empty() {
                self.export_spans(queues).await;
            }
            let more_logs = take_batch(queues.logs.as_ref(), &mut self.logs);
            if !self.logs.is_empty() {
                self.export_logs().await;
            }
            let more_lines = take_batch(queues.lines.as_ref(), &mut self.lines);
            if let Some(tap) = &self.destinations.tap
                && !self.lines.is_empty()
            {
                tap.lines(&self.lines);
            }
            self.lines.clear();
            if !more_spans && !more_logs && !more_lines {
                return;
            }
        }
    }

    /// Exports a batch: scrubbed, encoded for OTLP and sent without waiting
    /// for the answer (at most [`MAX_IN_FLIGHT`] requests on their way),
    /// then handed to the `SpanData` exporters one after the other. The
    /// batch counts as exported once every destination took it.
    async fn export_spans(&mut self, queues: &Queues) {
        let take = self.spans.len().min(MAX_BATCH);
        let count = take as u64;
        let max_chars = crate::limits::value_length();
        for span in &mut self.spans[..take] {
            scrub::span(span, self.redactor, max_chars);
        }
        if let Some(tap) = &self.destinations.tap {
            tap.spans(&self.spans[..take]);
        }
        let otlp_request = self.destinations.otlp_spans.as_mut().map(|otlp| {
            let request = otlp.encode(self.spans[..take].iter().map(|span| &**span));
            otlp.send(request)
        });
        let mut failed = None;
        if !self.destinations.spans.is_empty() {
            let batch: Vec<SpanData> = self.spans[..take]
                .iter_mut()
                .map(|span| span.take_span_data())
                .collect();
            let last = self.destinations.spans.len() - 1;
            let mut batch = Some(batch);
            for (i, exporter) in self.destinations.spans.iter().enumerate() {
                // Clone for all but the last destination: usually there is one.
                let spans = if i == last {
                    batch.take().unwrap_or_default()
                } else {
                    batch.clone().unwrap_or_default()
                };
                match tokio::time::timeout(EXPORT_TIMEOUT, exporter.export_boxed(spans)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => failed = Some(e.to_string()),
                    Err(_) => failed = Some(format!("timed out after {EXPORT_TIMEOUT:?}")),
                }
            }
        }
        for mut span in self.spans.drain(..take) {
            span.clear_for_reuse();
            // A full pool just frees the box.
            let _ = queues.recycled.push(span);
        }
        let Some(send) = otlp_request else {
            // Taken by the console's store alone, nothing left the process.
            if !self.destinations.spans.is_empty() {
                self.count_spans(count, failed.map_or(Ok(()), Err));
            }
            return;
        };
        while self.in_flight.len() >= MAX_IN_FLIGHT {
            if let Some(joined) = self.in_flight.join_next().await {
                self.settle(joined);
            }
        }
        self.in_flight.spawn(async move {
            // Within the transport's timeout.
            let sent = send.await;
            // A destination that failed before fails the batch.
            (count, failed.map_or(sent, Err))
        });
    }

    async fn export_logs(&mut self) {
        let take = self.logs.len().min(MAX_BATCH);
        let items: Vec<LogItem> = self.logs.drain(..take).collect();
        let refs: Vec<_> = items.iter().map(|item| (&item.0, &item.1)).collect();
        let count = items.len() as u64;
        let mut failed = None;
        for exporter in &self.destinations.logs {
            match tokio::time::timeout(EXPORT_TIMEOUT, exporter.export_boxed(&refs)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => failed = Some(e.to_string()),
                Err(_) => failed = Some(format!("timed out after {EXPORT_TIMEOUT:?}")),
            }
        }
        match failed {
            None => LOGS_EXPORTED.inc_by(count),
            Some(error) => {
                LOG_EXPORT_ERRORS.inc();
                LOGS_DROPPED.inc_by(count);
                self.report("log records", count, &error);
            }
        }
    }

    fn report(&mut self, what: &str, count: u64, error: &str) {
        self.errors.write(format_args!(
            "exporting {count} {what} failed: {error}; further failures are counted"
        ));
    }

    fn shutdown(&mut self) {
        for exporter in &self.destinations.spans {
            let _ = exporter.shutdown_dyn(EXPORT_TIMEOUT);
        }
        for exporter in &self.destinations.logs {
            let _ = exporter.shutdown_dyn(EXPORT_TIMEOUT);
        }
    }
}
