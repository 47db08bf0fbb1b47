//! Log lines: the layer that writes every `tracing` event (and every `log`
//! record, through `tracing-log`) as a console or JSON line, correlated with
//! the enclosing span's trace and span ids and carrying the fields of every
//! enclosing span; the JSON file sink; and OTLP log records. Fields and
//! messages are redacted before any sink sees them (`fields`).

mod batch;
mod fields;
mod filter;
mod format;
mod otlp;

use std::cell::RefCell;
use std::fs::File;
use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use smallvec::SmallVec;
use tracing_core::span::{Attributes, Record};
use tracing_core::{Event, Metadata};
use tracing_log::NormalizeEvent;

use crate::config::LogFormat;
use crate::export_thread::is_export_thread;
use crate::redact::Redactor;

use batch::FileSink;
pub(crate) use batch::{Batching, flush};
pub(crate) use fields::SpanFields;
use fields::{Collect, Entry, FieldCollector};
pub(crate) use filter::LevelDirectives;
pub(crate) use otlp::OtlpLogs;

/// Where formatted lines go.
#[derive(Debug)]
pub(crate) enum Sink {
    /// Standard output, in the configured format; colour only on a terminal.
    Stdout { format: LogFormat, colour: bool },
    /// A JSON lines file, opened for append, written in batches.
    File(Arc<FileSink>),
}

impl Sink {
    pub(crate) fn stdout(format: LogFormat) -> Self {
        let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        Sink::Stdout { format, colour }
    }

    /// Opens (creating its directory) the JSON log file at `path`.
    pub(crate) fn file(path: &Path) -> std::io::Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = File::options().create(true).append(true).open(path)?;
        Ok(Sink::File(FileSink::new(file)))
    }
}

/// Where every line also goes, as its JSON text: the export queue, which
/// lives in a layer above and hands the lines to the dev console's store on
/// the export thread. A copy of a line the JSON sinks format anyway is the
/// cheapest form to hand over on the request path.
pub(crate) trait LineTap: Send + Sync + std::fmt::Debug {
    /// Queues one JSON line (without its newline); a full queue drops it.
    fn line(&self, json: &[u8]);
}

/// The ids and trace flags of the span a line is written in.
pub(crate) type LineIds = crate::trace::Ids;

/// The log stage; see the module documentation.
#[derive(Debug)]
pub(crate) struct LogLayer {
    sinks: Vec<Sink>,
    otlp: Option<OtlpLogs>,
    /// The dev console's lines (`dev_console.enabled`).
    tap: Option<Arc<dyn LineTap>>,
    /// What fields and messages are redacted by, as they are collected.
    redactor: &'static Redactor,
}

impl LogLayer {
    pub(crate) fn new(
        sinks: Vec<Sink>,
        otlp: Option<OtlpLogs>,
        tap: Option<Arc<dyn LineTap>>,
        redactor: &'static Redactor,
    ) -> Self {
        LogLayer {
            sinks,
            otlp,
            tap,
            redactor,
        }
    }
}

thread_local! {
    /// The fields of the event being logged, reused per thread so that
    /// collecting them does not allocate each time.
    static COLLECTOR: RefCell<FieldCollector> = const { RefCell::new(FieldCollector::new()) };
    /// Reused per thread so that formatting a line does not allocate its buffer.
    static LINE: RefCell<(Vec<u8>, String)> = const { RefCell::new((Vec::new(), String::new())) };
}

impl LogLayer {
    /// Keeps a new span's fields, redacted, for the lines inside it.
    pub(crate) fn open(&self, attrs: &Attributes<'_>, fields: &mut SpanFields) {
        if attrs.fields().is_empty() || is_export_thread() {
            return;
        }
        attrs.record(&mut Collect::span(fields, self.redactor));
    }

    /// Keeps later values of a span's fields, redacted.
    pub(crate) fn record(&self, values: &Record<'_>, fields: &mut SpanFields) {
        values.record(&mut Collect::span(fields, self.redactor));
    }

    /// Whether `event` is written as a log line (the subscriber also skips
    /// the events that only a driver bridge wants).
    #[inline]
    pub(crate) fn wants_event(_event: &Event<'_>) -> bool {
        !is_export_thread()
    }

    /// Writes `event` (one it [wants](Self::wants_event)) to every sink,
    /// inside the spans whose fields are `scope` (outermost first; the
    /// event's own span last) and whose innermost span has the ids `ids`.
    pub(crate) fn event(&self, event: &Event<'_>, ids: Option<LineIds>, scope: &[&SpanFields]) {
        let normalized = event.normalized_metadata();
        let metadata = normalized.as_ref().unwrap_or_else(|| event.metadata());
        // Borrowed in place (moving it out and back copied its inline
        // fields twice per event). An event logged while this one is
        // collected or written (by a field's `Debug`, say) finds it
        // borrowed and collects into a new one.
        let collect_and_write = |collector: &mut FieldCollector| {
            event.record(&mut collector.visitor(self.redactor));
            collector.scrub_message(self.redactor);
            self.write(metadata, collector, ids, scope);
        };
        COLLECTOR.with(|collector| match collector.try_borrow_mut() {
            Ok(mut collector) => {
                // Empty already, unless a field's `Debug` panicked last time.
                collector.clear();
                collect_and_write(&mut collector);
                // Its values go now, not at the next event (their text
                // buffers stay, for reuse).
                collector.clear();
            }
            Err(_) => collect_and_write(&mut FieldCollector::new()),
        });
    }
}

impl LogLayer {
    /// Writes a line of `metadata`, whose fields are in `collector`, inside
    /// the spans whose fields are `scope`, to every sink.
    fn write(
        &self,
        metadata: &Metadata<'_>,
        collector: &FieldCollector,
        ids: Option<LineIds>,
        scope: &[&SpanFields],
    ) {
        // The fields are borrowed where they live: the spans' states and the
        // event's own collector. Outermost span first, the event's fields
        // last.
        let mut fields: SmallVec<[&[Entry]; 8]> =
            scope.iter().map(|fields| fields.as_slice()).collect();
        fields.push(collector.fields.as_slice());
        let message = collector.message.as_str();
        let now = SystemTime::now();

        let (file, line_number) = crate::callsite::code_location(metadata);

        if !self.sinks.is_empty() || self.tap.is_some() {
            let line = format::Line {
                timestamp: now,
                level: *metadata.level(),
                message,
                logger: metadata.target(),
                file,
                line: line_number,
                ids: ids.map(|ids| (ids.trace_id.to_bytes(), ids.span_id.to_bytes())),
                fields: &fields,
                redactor: self.redactor,
            };
            // Warnings and errors go out at once, with what waits before them.
            let urgent = *metadata.level() <= tracing_core::Level::WARN;
            LINE.with(|buffers| {
                let Ok(mut buffers) = buffers.try_borrow_mut() else {
                    return;
                };
                let (json, console) = &mut *buffers;
                json.clear();
                console.clear();
                for sink in &self.sinks {
                    match sink {
                        Sink::Stdout {
                            format: LogFormat::Json,
                            ..
                        }
                        | Sink::File(_)
                            if json.is_empty() =>
                        {
                            format::json(&line, json);
                        }
                        Sink::Stdout {
                            format: LogFormat::Console,
                            colour,
                        } if console.is_empty() => {
                            format::console(&line, *colour, console);
                        }
                        _ => {}
                    }
                    // A log line that cannot be written has nowhere better to go.
                    let _ = match sink {
                        Sink::Stdout {
                            format: LogFormat::Json,
                            ..
                        } => batch::write_stdout(json, urgent),
                        Sink::Stdout {
                            format: LogFormat::Console,
                            ..
                        } => batch::write_stdout(console.as_bytes(), urgent),
                        Sink::File(file) => file.write(json, urgent),
                    };
                }
                if let Some(tap) = &self.tap {
                    if json.is_empty() {
                        format::json(&line, json);
                    }
                    tap.line(json.strip_suffix(b"\n").unwrap_or(json));
                }
            });
        }
        if let Some(otlp) = &self.otlp {
            // Each key once, as in the lines: OTLP attributes are a map.
            let mut owned = Vec::new();
            format::for_each_unique_field(&fields, self.redactor, |key, value| {
                owned.push((key.clone(), value.clone()));
            });
            otlp.emit(metadata, now, message.to_owned(), owned, ids);
        }
    }
}
