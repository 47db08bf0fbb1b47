//! A span exporter that prints one line per finished span to stderr: a dev
//! aid (`tracing.console_exporter`), and a destination that needs no server.

use std::fmt::Write as _;
use std::io::Write as _;

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

/// Prints `span <name> trace=<id> span=<id> parent=<id> <duration> k=v…` lines to stderr.
#[derive(Debug, Default)]
pub struct ConsoleSpanExporter;

impl SpanExporter for ConsoleSpanExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let mut out = String::new();
        for span in &batch {
            let duration = span
                .end_time
                .duration_since(span.start_time)
                .unwrap_or_default();
            let _ = write!(
                out,
                "span {} trace_id={} span_id={} parent_span_id={} duration={:?}",
                span.name,
                span.span_context.trace_id(),
                span.span_context.span_id(),
                span.parent_span_id,
                duration
            );
            for kv in &span.attributes {
                let _ = write!(out, " {}={}", kv.key, kv.value);
            }
            if let opentelemetry::trace::Status::Error { description } = &span.status {
                let _ = write!(out, " status=error({description})");
            }
            out.push('\n');
        }
        let _ = std::io::stderr().lock().write_all(out.as_bytes());
        Ok(())
    }
}
