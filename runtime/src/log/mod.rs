//! Log lines: the layer that writes every `tracing` event (and every `log`
//! record, through `tracing-log`) as a console or JSON line, correlated with
//! the enclosing span's trace and span ids and carrying the fields of every
//! enclosing span; the JSON file sink; OTLP log export; and the context API
//! ([`tag`], [`span_attribute`], [`log_context`]).

mod batch;
mod context;
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
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::{Event, Metadata, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::{Extensions, LookupSpan, SpanRef};

use crate::config::LogFormat;
use crate::export::is_export_thread;
use crate::trace::{SpanState, WithState};

use batch::FileSink;
pub(crate) use batch::{Batching, flush};
pub use context::{log_context, span_attribute, tag};
pub(crate) use fields::SpanFields;
use fields::{Collect, FieldCollector, Key};
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

/// The log layer; see the module documentation.
#[derive(Debug)]
pub struct LogLayer {
    sinks: Vec<Sink>,
    otlp: Option<OtlpLogs>,
}

impl LogLayer {
    pub(crate) fn new(sinks: Vec<Sink>, otlp: Option<OtlpLogs>) -> Self {
        LogLayer { sinks, otlp }
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
    /// Keeps a new span's fields in its state, for the lines inside it.
    pub(crate) fn open(attrs: &Attributes<'_>, state: &mut SpanState) {
        if attrs.fields().is_empty() {
            return;
        }
        attrs.record(&mut Collect::span(&mut state.fields));
    }

    /// Keeps later values of a span's fields.
    pub(crate) fn record(values: &Record<'_>, state: &mut SpanState) {
        values.record(&mut Collect::span(&mut state.fields));
    }

    /// Whether `event` is written as a log line.
    #[inline]
    pub(crate) fn wants_event(event: &Event<'_>) -> bool {
        !is_export_thread() && !crate::db::only_for_bridge(event.metadata())
    }

    /// Writes `event` (one it [wants](Self::wants_event)), inside the spans
    /// whose states are `scope` (outermost first; the event's own span
    /// last), to every sink.
    pub(crate) fn event(&self, event: &Event<'_>, scope: &[&SpanState]) {
        let normalized = event.normalized_metadata();
        let metadata = normalized.as_ref().unwrap_or_else(|| event.metadata());
        // Borrowed in place (moving it out and back copied its inline
        // fields twice per event). An event logged while this one is
        // collected or written (by a field's `Debug`, say) finds it
        // borrowed and collects into a new one.
        let collect_and_write = |collector: &mut FieldCollector| {
            event.record(&mut collector.visitor());
            self.write(metadata, collector, scope);
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

/// The log layer in a `tracing-subscriber` stack (what [`crate::layer`]
/// composes). A span's fields live in its `SpanState`, which the span
/// layer (before this one in o11y's stack) has created.
impl<S> Layer<S> for LogLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if attrs.fields().is_empty() || is_export_thread() {
            return;
        }
        if let Some(span) = ctx.span(id) {
            span.with_state(|state| Self::open(attrs, state));
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            span.with_state(|state| Self::record(values, state));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if !Self::wants_event(event) {
            return;
        }
        // The states are borrowed where they live, the enclosing spans'
        // extensions, read-locked while the line is written; on the stack
        // unless the scope is deep.
        let scope: SmallVec<[SpanRef<'_, S>; 8]> = match ctx.event_span(event) {
            Some(span) => span.scope().collect(),
            None => SmallVec::new(),
        };
        let extensions: SmallVec<[Extensions<'_>; 8]> =
            scope.iter().rev().map(|span| span.extensions()).collect();
        let states: SmallVec<[&SpanState; 8]> = extensions
            .iter()
            .filter_map(|e| e.get::<SpanState>())
            .collect();
        self.event(event, &states);
    }
}

impl LogLayer {
    /// Writes a line of `metadata`, whose fields are in `collector`, inside
    /// the spans whose states are `scope`, to every sink.
    fn write(&self, metadata: &Metadata<'_>, collector: &FieldCollector, scope: &[&SpanState]) {
        // The fields are borrowed where they live: the spans' states and the
        // event's own collector. Outermost span first, the event's fields
        // last.
        // The event's own span is the innermost: its ids correlate the line.
        let ids = scope
            .last()
            .map(|state| (state.trace_id, state.span_id, state.sampled));
        let mut fields: SmallVec<[&[(Key, crate::value::FieldValue)]; 8]> =
            scope.iter().map(|state| state.fields.as_slice()).collect();
        fields.push(collector.fields.as_slice());
        let message = collector.message.as_str();
        let now = SystemTime::now();

        let (file, line_number) = crate::callsite::code_location(metadata);

        if !self.sinks.is_empty() {
            let line = format::Line {
                timestamp: now,
                level: *metadata.level(),
                message,
                logger: metadata.target(),
                file,
                line: line_number,
                ids: ids.map(|(trace_id, span_id, _)| (trace_id.to_bytes(), span_id.to_bytes())),
                fields: &fields,
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
            });
        }
        if let Some(otlp) = &self.otlp {
            // Each key once, as in the lines: OTLP attributes are a map.
            let mut owned = Vec::new();
            format::for_each_unique_field(&fields, |key, value| {
                owned.push((key.clone(), value.clone()));
            });
            otlp.emit(metadata, now, message.to_owned(), owned, ids);
        }
    }
}
