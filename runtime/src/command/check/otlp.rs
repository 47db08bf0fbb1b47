//! The `check` section about OTLP export: for each signal exported, its
//! endpoint reachable (a TCP connection within [`CONNECT_TIMEOUT`]), then
//! something actually sent through the same exporter the program uses and
//! acknowledged by the collector: a test span (its trace id printed, to
//! find it in the backend), and a test log record in that trace when log
//! records are exported. Metrics are only probed for reachability: a
//! check pushes no metric data.

use std::borrow::Cow;
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant, SystemTime};

use opentelemetry::logs::{AnyValue, LogRecord, Logger, LoggerProvider, Severity};
use opentelemetry::trace::{SpanId, SpanKind, TraceFlags, TraceId};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::logs::{LogBatch, LogExporter, SdkLoggerProvider};
use tracing_core::callsite::{Callsite, Identifier};
use tracing_core::field::FieldSet;
use tracing_core::metadata::Kind;
use tracing_core::subscriber::Interest;
use tracing_core::{Level, Metadata};

use crate::config::{Config, OtlpProtocol, OtlpSignal, OtlpTarget, without_credentials};
use crate::export::{self, EXPORT_TIMEOUT, OtlpSpanExporter};
use crate::trace::{self, Recording};

use super::super::report::Section;

/// How long the TCP connection to an endpoint may take.
pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// The name of the test span, and the scope of it and of the test log record.
const TEST_SPAN: &str = "o11y check";
const SCOPE: &str = "o11y::check";

/// The callsite of the test span: scope `o11y::check`, no code location.
struct CheckCallsite;

static CHECK_CALLSITE: CheckCallsite = CheckCallsite;

static CHECK_METADATA: Metadata<'static> = Metadata::new(
    TEST_SPAN,
    SCOPE,
    Level::INFO,
    None,
    None,
    None,
    FieldSet::new(&[], Identifier(&CHECK_CALLSITE)),
    Kind::SPAN,
);

impl Callsite for CheckCallsite {
    fn set_interest(&self, _: Interest) {}

    fn metadata(&self) -> &Metadata<'_> {
        &CHECK_METADATA
    }
}

/// The section, and the trace id of the test span when the collector
/// acknowledged it.
pub(super) fn otlp(config: &Config, exporters_in_code: usize) -> (Section, Option<String>) {
    let mut section = Section::new("otlp", "OTLP export");
    // What is not exported is said after what is.
    let mut not_exported = Section::new("otlp", "");
    let targets = targets(config, &mut not_exported);
    if exporters_in_code > 0 {
        section
            .ok(format!(
                "{exporters_in_code} exporter(s) given in code (Setup::with_span_exporter, \
                 with_log_exporter): not exercised by check"
            ))
            .with("exporters_in_code", exporters_in_code);
    }
    if targets.is_empty() {
        section.append(not_exported);
        return (section, None);
    }
    let resource = export::resource(config);
    let ids = (trace::new_trace_id(), trace::new_span_id());
    let mut acknowledged = None;
    for (signal, target) in targets {
        let url = without_credentials(&target.url).into_owned();
        let protocol = match target.protocol {
            OtlpProtocol::Grpc => "grpc",
            OtlpProtocol::Http => "http/protobuf",
        };
        let endpoint = format!("{signal} endpoint {url} ({protocol})");
        match reach(&target.url) {
            Ok(took) => section.ok(format!(
                "{endpoint} is reachable (TCP connection in {:.1} ms)",
                took.as_secs_f64() * 1000.0
            )),
            Err(error) => {
                section
                    .error(format!(
                        "{endpoint} is not reachable: {error}; nothing was sent to it"
                    ))
                    .with("signal", signal.as_str())
                    .with("endpoint", url);
                continue;
            }
        }
        .with("signal", signal.as_str())
        .with("endpoint", url.as_str());
        let sent = match signal {
            OtlpSignal::Traces => "test span",
            OtlpSignal::Logs => "test log record",
            _ => continue,
        };
        let exported = block_on(async {
            let export = async {
                match signal {
                    OtlpSignal::Traces => export_span(&target, &resource, ids).await,
                    _ => export_log_record(&target, &resource, ids).await,
                }
            };
            tokio::time::timeout(EXPORT_TIMEOUT + Duration::from_secs(1), export)
                .await
                .unwrap_or_else(|_| Err(format!("no answer within {EXPORT_TIMEOUT:?}")))
        });
        let trace_id = ids.0.to_string();
        match exported {
            Ok(()) => {
                section
                    .ok(format!(
                        "{sent} exported to {url} and acknowledged by the collector \
                         (trace id {trace_id})"
                    ))
                    .with("signal", signal.as_str())
                    .with("trace_id", trace_id.as_str());
                if signal == OtlpSignal::Traces {
                    acknowledged = Some(trace_id);
                }
            }
            Err(error) => {
                section
                    .error(format!("{sent} to {url} was not acknowledged: {error}"))
                    .with("signal", signal.as_str())
                    .with("endpoint", url.as_str());
            }
        }
    }
    section.append(not_exported);
    (section, acknowledged)
}

/// Runs `export` to its end on a thread and a Tokio runtime of its own, as
/// the export thread does: `init()` is often called inside the
/// application's runtime (an async `main`), which cannot block on another.
fn block_on(export: impl Future<Output = Result<(), String>> + Send) -> Result<(), String> {
    std::thread::scope(|scope| {
        let exporting = scope.spawn(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("cannot start a Tokio runtime to export with: {e}"))?;
            runtime.block_on(export)
        });
        exporting
            .join()
            .unwrap_or_else(|_| Err("the exporting thread panicked".to_owned()))
    })
}

/// The signals exported and where to, saying in `section` why the others
/// are not.
fn targets(config: &Config, section: &mut Section) -> Vec<(OtlpSignal, OtlpTarget)> {
    let tracing = &config.tracing;
    let mut targets = Vec::new();
    if !tracing.enabled {
        section
            .warning("tracing is off (tracing.enabled = false): no span is recorded or exported");
    } else if let Some(target) = tracing.otlp_target(OtlpSignal::Traces) {
        targets.push((OtlpSignal::Traces, target));
    } else {
        section.warning(
            "no OTLP endpoint: spans are kept for log correlation only and nothing is sent \
             (set OTEL_EXPORTER_OTLP_ENDPOINT or tracing.otlp_endpoint)",
        );
    }
    for (signal, on, key) in [
        (
            OtlpSignal::Logs,
            config.logging.otlp_enabled,
            "logging.otlp_enabled",
        ),
        (
            OtlpSignal::Metrics,
            config.metrics.enabled && config.metrics.otlp_enabled,
            "metrics.otlp_enabled",
        ),
    ] {
        if !on {
            section.ok(format!(
                "{signal} are not exported over OTLP ({key} is off)"
            ));
            continue;
        }
        match tracing.otlp_target(signal) {
            Some(target) => targets.push((signal, target)),
            None => {
                section.error(format!(
                    "{key} is true but no OTLP endpoint is configured: init() fails (set \
                     tracing.otlp_endpoint or OTEL_EXPORTER_OTLP_ENDPOINT)"
                ));
            }
        }
    }
    targets
}

/// Connects to the host and port of `url` over TCP; how long it took.
fn reach(url: &str) -> Result<Duration, String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
    let host = parsed.host_str().ok_or("the URL has no host")?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = parsed
        .port_or_known_default()
        .ok_or("the URL has no port")?;
    let started = Instant::now();
    let addresses: Vec<_> = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .collect();
    let mut last = format!("{host} resolves to no address");
    for address in addresses {
        match TcpStream::connect_timeout(&address, CONNECT_TIMEOUT) {
            Ok(_) => return Ok(started.elapsed()),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                last = format!("no TCP connection to {address} within {CONNECT_TIMEOUT:?}")
            }
            Err(e) => last = format!("TCP connection to {address}: {e}"),
        }
    }
    Err(last)
}

/// Exports the test span through o11y's own span exporter, as the export
/// thread does, and waits for the collector's answer.
async fn export_span(
    target: &OtlpTarget,
    resource: &Resource,
    (trace_id, span_id): (TraceId, SpanId),
) -> Result<(), String> {
    let mut exporter = OtlpSpanExporter::new(target, resource)?;
    let end = SystemTime::now();
    let recording = Recording {
        // Ids from o11y's generator are random: the W3C `random` flag.
        random: true,
        end,
        name: Some(Cow::Borrowed(TEST_SPAN)),
        kind: SpanKind::Internal,
        attributes: vec![KeyValue::new("o11y.check", true)],
        ..Recording::new(
            trace_id,
            span_id,
            SpanId::INVALID,
            &CHECK_METADATA,
            end - Duration::from_millis(1),
        )
    };
    let request = exporter.encode([&recording]);
    exporter.send(request).await
}

/// Exports a test log record in the test span's trace through the log
/// exporter the program uses, and waits for the collector's answer.
async fn export_log_record(
    target: &OtlpTarget,
    resource: &Resource,
    (trace_id, span_id): (TraceId, SpanId),
) -> Result<(), String> {
    let mut exporter = export::build_log_exporter(target)?;
    exporter.set_resource(resource);
    let provider = SdkLoggerProvider::builder().build();
    let logger = provider.logger(SCOPE);
    let mut record = logger.create_log_record();
    let now = SystemTime::now();
    record.set_timestamp(now);
    record.set_observed_timestamp(now);
    record.set_severity_number(Severity::Info);
    record.set_severity_text("INFO");
    record.set_target(SCOPE);
    record.set_body(AnyValue::from("o11y check: test log record"));
    record.set_trace_context(trace_id, span_id, Some(TraceFlags::SAMPLED));
    let scope = InstrumentationScope::builder(SCOPE).build();
    let batch = [(&record, &scope)];
    exporter
        .export(LogBatch::new(&batch))
        .await
        .map_err(|error| error.to_string())
}
