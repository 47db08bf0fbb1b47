//! `init()` and its relatives: resolve the configuration, build the stages
//! (span, db bridge, log), compose them into o11y's subscriber (or layers
//! for the application's own), start the export thread, and return the
//! guard that flushes and stops it. The top layer: it knows every module;
//! none knows it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use opentelemetry_sdk::logs::LogExporter;
use opentelemetry_sdk::trace::SpanExporter;
use tracing_core::Subscriber;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::{self, Config, LogFormat, OtlpSignal, Profile};
use crate::error::Error;
use crate::export::{self, Destinations, DynLogExporter, DynSpanExporter, ExportQueue, Exporter};
use crate::{
    clock, command, console_store, db, flags, lifecycle, limits, log, metrics, observe, redact,
    subscriber, trace,
};

static INITIALISED: AtomicBool = AtomicBool::new(false);

/// Loads the configuration (profile defaults, `o11y.toml`, environment),
/// installs o11y as the global `tracing` subscriber (and `log` logger), and
/// starts the exporters.
///
/// It also installs a panic hook, chained in front of the one in place
/// (which still runs, so panics print on stderr as before): a panic is
/// written as one error log line in the span it happened in, with
/// `exception.message` and, as `errors.backtrace` says,
/// `exception.stacktrace`, and each span it unwinds through that o11y
/// knows (an observed call, a request, a task run) gets an `exception`
/// event. Set your own hook before `init()`, or chain the one you replace.
///
/// With the `sentry` feature and `sentry.dsn` (or `SENTRY_DSN`) set, it
/// also starts the Sentry client: every error and panic reported on a span
/// is sent as an event, redacted (see `docs/sentry.md`).
///
/// Keep the returned [`Guard`] alive until the program ends: dropping it
/// exports what is still queued, within `shutdown_timeout`.
///
/// With `O11Y_COMMAND` set (`cargo o11y check` sets it), `init()` runs that
/// command instead, `check` or `catalog`, and exits the process with its
/// status: see [`command`](crate::command). So do [`init_with`],
/// [`layer`] and the [`Setup`] methods.
pub fn init() -> Result<Guard, Error> {
    let config = Config::load();
    // Before the configuration's error is returned: `check` reports it.
    if let Some(invocation) = command::requested() {
        let context = command::Context {
            config: config.as_ref(),
            exporters_in_code: 0,
        };
        command::exit_with(&invocation, &context);
    }
    Setup::new(config?).init()
}

/// Like [`init`], with a configuration built in code (see [`Config::builder`]).
pub fn init_with(config: Config) -> Result<Guard, Error> {
    Setup::new(config).init()
}

/// o11y's span and log layers, to compose into a subscriber of your own
/// (which must be built on [`tracing_subscriber::Registry`]). No filter is
/// included: add your own, or [`Setup::filter`].
///
/// ```no_run
/// use tracing_subscriber::layer::SubscriberExt;
/// let config = o11y_runtime::Config::load()?;
/// let (o11y_layer, _guard) = o11y_runtime::layer(config)?;
/// let subscriber = tracing_subscriber::Registry::default().with(o11y_layer);
/// tracing::subscriber::set_global_default(subscriber).expect("no other subscriber");
/// # Ok::<(), o11y_runtime::Error>(())
/// ```
pub fn layer<S>(config: Config) -> Result<(impl Layer<S> + Send + Sync + 'static, Guard), Error>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    Setup::new(config).into_layer()
}

/// Everything `init()` sets up, with room for exporters given in code.
///
/// ```no_run
/// use o11y_runtime::{Config, Setup, export::ConsoleSpanExporter};
/// let _guard = Setup::new(Config::load()?)
///     .with_span_exporter(ConsoleSpanExporter)
///     .init()?;
/// # Ok::<(), o11y_runtime::Error>(())
/// ```
pub struct Setup {
    config: Config,
    span_exporters: Vec<Box<dyn DynSpanExporter>>,
    log_exporters: Vec<Box<dyn DynLogExporter>>,
}

impl Setup {
    /// Starts from a resolved configuration.
    pub fn new(config: Config) -> Self {
        Setup {
            config,
            span_exporters: Vec::new(),
            log_exporters: Vec::new(),
        }
    }

    /// Also sends sampled spans to `exporter` (besides any configured OTLP endpoint).
    #[must_use]
    pub fn with_span_exporter(mut self, exporter: impl SpanExporter + 'static) -> Self {
        self.span_exporters.push(Box::new(exporter));
        self
    }

    /// Also sends log records to `exporter` (besides any configured OTLP endpoint).
    #[must_use]
    pub fn with_log_exporter(mut self, exporter: impl LogExporter + 'static) -> Self {
        self.log_exporters.push(Box::new(exporter));
        self
    }

    /// The level filter of the configuration (`logging.level`), which applies
    /// to spans and events alike, as `RUST_LOG` does.
    pub fn filter(&self) -> Result<EnvFilter, Error> {
        EnvFilter::builder()
            .parse(&self.config.logging.level)
            .map_err(|e| {
                Error::Export(format!(
                    "logging.level {:?} is not a valid filter: {e}",
                    self.config.logging.level
                ))
            })
    }

    /// Installs the global subscriber; see [`init`].
    pub fn init(self) -> Result<Guard, Error> {
        if INITIALISED.swap(true, Ordering::SeqCst) {
            return Err(Error::AlreadyInitialized);
        }
        let installed = self.install();
        if installed.is_err() {
            INITIALISED.store(false, Ordering::SeqCst);
        }
        installed
    }

    fn install(self) -> Result<Guard, Error> {
        let summary = Summary::of(&self.config);
        let backtrace = self.config.errors.backtrace;
        let (subscriber, guard) = self.into_subscriber()?;
        tracing::subscriber::set_global_default(subscriber)
            .map_err(|_| Error::SubscriberAlreadySet)?;
        // A `log` logger installed by the application keeps working; its
        // records then bypass o11y, which is the application's choice.
        let _ = tracing_log::LogTracer::init();
        // Chained in front of the hook in place, which keeps running.
        lifecycle::panic::install(backtrace);
        summary.announce();
        Ok(guard)
    }

    /// The subscriber [`init`] installs, and its guard, without installing
    /// it: for a test or a benchmark that runs code under it with
    /// [`tracing::subscriber::with_default`]. It starts the exporters and
    /// configures the metrics and HTTP settings of the process, as `init`
    /// does.
    ///
    /// ```no_run
    /// let (subscriber, _guard) = o11y_runtime::Setup::new(o11y_runtime::Config::load()?)
    ///     .into_subscriber()?;
    /// tracing::subscriber::with_default(subscriber, || {
    ///     tracing::info!("logged by o11y");
    /// });
    /// # Ok::<(), o11y_runtime::Error>(())
    /// ```
    pub fn into_subscriber(
        self,
    ) -> Result<(impl Subscriber + Send + Sync + 'static, Guard), Error> {
        let filter = log::LevelDirectives::new(&self.config.logging.level, self.filter()?);
        let filter_tracks_spans = filter.tracks_spans();
        // sqlx's query events reach the db bridge whatever the level says.
        #[cfg(feature = "sqlx")]
        let filter = db::sqlx::QueryEventFilter::new(filter);
        let (pipeline, guard) = self.into_pipeline()?;
        let subscriber = subscriber::O11ySubscriber::new(pipeline, filter_tracks_spans);
        Ok((filter.with_subscriber(subscriber), guard))
    }

    /// The layers and their guard, without installing anything; see [`layer`].
    pub fn into_layer<S>(self) -> Result<(impl Layer<S> + Send + Sync + 'static, Guard), Error>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        use subscriber::layered::{DbStage, LogStage, SpanStage};
        let (subscriber::Pipeline { spans, db, logs }, guard) = self.into_pipeline()?;
        let layers = SpanStage::new(spans)
            .and_then(DbStage::new(db))
            .and_then(LogStage::new(logs));
        Ok((layers, guard))
    }

    /// o11y's stages and their guard, having configured the process and
    /// started the exporters.
    fn into_pipeline(self) -> Result<(subscriber::Pipeline, Guard), Error> {
        let Setup {
            config,
            span_exporters,
            log_exporters,
        } = self;
        // `O11Y_COMMAND`: the program runs a command instead, and exits.
        if let Some(invocation) = command::requested() {
            let context = command::Context {
                config: Ok(&config),
                exporters_in_code: span_exporters.len() + log_exporters.len(),
            };
            command::exit_with(&invocation, &context);
        }
        // First: a bad custom pattern (in a configuration changed after it
        // was checked) fails before anything is set up.
        let redactor = redact::Redactor::new(&config.redaction)?;
        metrics::setup::init(&config)?;
        if let Some((function, module, first_site, second_site)) = observe::shared_series() {
            return Err(Error::SharedFunctionSeries {
                function: function.to_owned(),
                module: module.to_owned(),
                first_site,
                second_site,
            });
        }
        // Refused under prod without allow_in_prod: before anything is installed.
        let console = dev_console_store(&config)?;
        // The one snapshot every module derives its settings from.
        config::install(std::sync::Arc::new(config.clone()));
        let redactor = redact::install(redactor);
        limits::set(limits::Limits {
            span_attributes: config.limits.span_attribute_count,
            span_events: config.limits.span_event_count,
            span_links: config.limits.span_link_count,
            value_length: config.limits.attribute_value_length,
        });
        db::set_query_words(&config.db);
        #[cfg(feature = "sentry")]
        let sentry = crate::sentry::Sentry::start(&config, redactor)?;
        console_store::install(console.clone());
        let tap = console.map(|store| store as std::sync::Arc<dyn export::BatchTap>);
        let (queue, exporter) =
            start_export(&config, span_exporters, log_exporters, tap, redactor)?;

        let mut sinks = vec![log::Sink::stdout(config.logging.format)];
        if config.logging.file_enabled {
            let path = &config.logging.file_path;
            let file = log::Sink::file(path).map_err(|source| Error::LogFile {
                path: path.clone(),
                source,
            })?;
            sinks.push(file);
        }
        let otlp_logs = queue
            .wants_logs()
            .then(|| log::OtlpLogs::new(queue.log_processor()));
        let sampler = trace::Sampler::new(
            config.tracing.enabled,
            config.tracing.sample_rate,
            config.tracing.parent_based,
        );
        let span_sink = tail_sink(&config, queue.span_sink());
        let pipeline = subscriber::Pipeline {
            db: db::bridge(sampler, span_sink.clone()),
            spans: trace::SpanLayer::new(sampler, span_sink, redactor),
            logs: log::LogLayer::new(sinks, otlp_logs, queue.line_tap(), redactor),
        };

        // Before any call is timed: the first read would pay for it.
        clock::calibrate();
        flags::set_flags(instrumentation_flags(&config));
        let exporter = exporter.map(std::sync::Arc::new);
        export::set_active(exporter.clone());
        let guard = Guard {
            exporter,
            #[cfg(feature = "sentry")]
            sentry,
            timeout: config.shutdown_timeout,
            batching: log::Batching::start(config.logging.file_enabled),
        };
        Ok((pipeline, guard))
    }
}

/// The export queue's span sink, behind the tail rules when one is on.
fn tail_sink(
    config: &Config,
    sink: Option<std::sync::Arc<dyn trace::SpanSink>>,
) -> Option<std::sync::Arc<dyn trace::SpanSink>> {
    let tracing = &config.tracing;
    if !(tracing.enabled && tracing.tail_sampling()) {
        return sink;
    }
    let rules = trace::tail::TailRules {
        keep_errors: tracing.keep_errors,
        keep_slower_than: tracing.keep_slower_than,
        max_spans_per_trace: tracing.tail_max_spans_per_trace,
        max_bytes: tracing.tail_max_bytes,
    };
    Some(std::sync::Arc::new(trace::tail::TailSink::new(
        sink?, rules,
    )))
}

/// What `#[observe]` does, read by every instrumented call in one load.
fn instrumentation_flags(config: &Config) -> u8 {
    if cfg!(feature = "off") {
        return 0;
    }
    let mut flags = flags::ENABLED;
    if config.metrics.enabled {
        flags |= flags::METRICS;
    }
    if config.tracing.enabled {
        flags |= flags::TRACING;
    }
    flags
}

/// The dev console's store, when `dev_console.enabled` (refused under
/// `prod` without `dev_console.allow_in_prod`). It needs the spans recorded,
/// so tracing must be on too. Never with the `off` feature: o11y records
/// nothing then, and starts no thread for a console with nothing to show.
fn dev_console_store(
    config: &Config,
) -> Result<Option<std::sync::Arc<console_store::Store>>, Error> {
    let console = &config.dev_console;
    if !console.enabled || cfg!(feature = "off") {
        return Ok(None);
    }
    if config.profile == Profile::Prod && !console.allow_in_prod {
        return Err(Error::DevConsoleInProd);
    }
    let bounds = console_store::Bounds {
        max_traces: console.max_traces,
        max_bytes: console.max_bytes,
    };
    Ok(Some(std::sync::Arc::new(console_store::Store::new(
        bounds,
        &config.service_name,
    ))))
}

/// Starts the export thread when there is anywhere to export to (the dev
/// console's store counts).
fn start_export(
    config: &Config,
    mut span_exporters: Vec<Box<dyn DynSpanExporter>>,
    mut log_exporters: Vec<Box<dyn DynLogExporter>>,
    tap: Option<std::sync::Arc<dyn export::BatchTap>>,
    redactor: &'static redact::Redactor,
) -> Result<(ExportQueue, Option<Exporter>), Error> {
    let tracing = &config.tracing;
    let otlp_spans = tracing
        .enabled
        .then(|| tracing.otlp_target(OtlpSignal::Traces))
        .flatten();
    let target_of = |enabled: bool, signal: OtlpSignal, key: &str| {
        if !enabled {
            return Ok(None);
        }
        match tracing.otlp_target(signal) {
            Some(target) => Ok(Some(target)),
            None => Err(Error::Export(format!(
                "{key} is true but no OTLP endpoint is configured (set \
                 tracing.otlp_endpoint, OTEL_EXPORTER_OTLP_ENDPOINT or \
                 OTEL_EXPORTER_OTLP_{}_ENDPOINT)",
                signal.as_str().to_ascii_uppercase()
            ))),
        }
    };
    let otlp_logs = target_of(
        config.logging.otlp_enabled,
        OtlpSignal::Logs,
        "logging.otlp_enabled",
    )?;
    let otlp_metrics = target_of(
        config.metrics.enabled && config.metrics.otlp_enabled,
        OtlpSignal::Metrics,
        "metrics.otlp_enabled",
    )?;
    let metrics_interval = config.metrics.otlp_interval;
    let console = config.tracing.enabled && config.tracing.console_exporter;
    if otlp_spans.is_none()
        && otlp_logs.is_none()
        && otlp_metrics.is_none()
        && !console
        && tap.is_none()
        && span_exporters.is_empty()
        && log_exporters.is_empty()
    {
        return Ok((ExportQueue::none(), None));
    }
    let resource = export::resource(config);
    let factory: export::DestinationsFactory = Box::new(move || {
        let mut destinations = Destinations::default();
        if let Some(target) = &otlp_spans {
            destinations.otlp_spans = Some(export::OtlpSpanExporter::new(target, &resource)?);
        }
        if console {
            destinations
                .spans
                .push(Box::new(export::ConsoleSpanExporter));
        }
        if let Some(target) = &otlp_logs {
            destinations
                .logs
                .push(Box::new(export::build_log_exporter(target)?));
        }
        if let Some(target) = &otlp_metrics {
            destinations.metrics = Some(export::MetricsExporter::new(
                target,
                &resource,
                metrics_interval,
            )?);
        }
        destinations.tap = tap;
        destinations.spans.append(&mut span_exporters);
        destinations.logs.append(&mut log_exporters);
        for exporter in &mut destinations.spans {
            exporter.set_resource_dyn(&resource);
        }
        for exporter in &mut destinations.logs {
            exporter.set_resource_dyn(&resource);
        }
        Ok(destinations)
    });
    let (queue, exporter) = Exporter::start(factory, redactor).map_err(Error::Export)?;
    Ok((queue, Some(exporter)))
}

/// What `init()` reports once, at info level, so the first log line says
/// where telemetry goes.
struct Summary {
    profile: String,
    service: String,
    endpoint: Option<String>,
    tracing: bool,
    sample_rate: f64,
    format: LogFormat,
    log_file: Option<String>,
    /// The dev console keeps the spans.
    console: bool,
    /// The dev console is on under `prod` (`dev_console.allow_in_prod`).
    console_in_prod: bool,
}

impl Summary {
    fn of(config: &Config) -> Self {
        Summary {
            profile: config.profile.to_string(),
            service: config.service_name.clone(),
            endpoint: config
                .tracing
                .otlp_target(OtlpSignal::Traces)
                .map(|target| config::without_credentials(&target.url).into_owned()),
            tracing: config.tracing.enabled,
            sample_rate: config.tracing.sample_rate,
            format: config.logging.format,
            log_file: config
                .logging
                .file_enabled
                .then(|| config.logging.file_path.display().to_string()),
            console: config.dev_console.enabled,
            console_in_prod: config.dev_console.enabled && config.profile == Profile::Prod,
        }
    }

    fn announce(self) {
        if self.console_in_prod {
            tracing::warn!(
                target: "o11y",
                "the dev console is on under the prod profile (dev_console.allow_in_prod): \
                 every request's spans and log lines are kept in memory and shown at /o11y/ \
                 to the clients of dev_console.allow_from"
            );
        }
        let log_file = self.log_file.as_deref().unwrap_or("off");
        let format = match self.format {
            LogFormat::Console => "console",
            LogFormat::Json => "json",
        };
        match (&self.endpoint, self.tracing) {
            (Some(endpoint), true) => tracing::info!(
                target: "o11y",
                profile = %self.profile, service = %self.service, otlp_endpoint = %endpoint,
                sample_rate = self.sample_rate, log_format = format, log_file,
                "o11y started: exporting spans to {endpoint}"
            ),
            (None, true) if self.console => tracing::info!(
                target: "o11y",
                profile = %self.profile, service = %self.service, sample_rate = self.sample_rate,
                log_format = format, log_file,
                "o11y started: no OTLP endpoint configured, so spans go to the dev console only \
                 (/o11y/ on the app's o11y::http::routes() or o11y::metrics::serve)"
            ),
            (None, true) => tracing::info!(
                target: "o11y",
                profile = %self.profile, service = %self.service, sample_rate = self.sample_rate,
                log_format = format, log_file,
                "o11y started: no OTLP endpoint configured, so spans are kept for log correlation \
                 only and nothing is sent (set OTEL_EXPORTER_OTLP_ENDPOINT to export)"
            ),
            (_, false) => tracing::info!(
                target: "o11y",
                profile = %self.profile, service = %self.service, log_format = format, log_file,
                "o11y started: tracing is disabled"
            ),
        }
    }
}

/// Returned by [`init`]; dropping it exports what is still queued (waiting at
/// most the configured `shutdown_timeout`) and stops the exporters.
#[must_use = "dropping the guard stops telemetry export: bind it, e.g. `let _o11y = o11y::init()?;`"]
#[derive(Debug)]
pub struct Guard {
    exporter: Option<std::sync::Arc<Exporter>>,
    /// The Sentry client, when a DSN is set: closed (its events sent)
    /// within the same shutdown timeout as the exporters.
    #[cfg(feature = "sentry")]
    sentry: Option<crate::sentry::Sentry>,
    timeout: Duration,
    /// Log lines to the log file, and to a standard output that is not a
    /// terminal, are written in batches while this lives (see `log::batch`).
    batching: Option<log::Batching>,
}

impl Guard {
    /// Writes the log lines waiting in batches, and exports everything
    /// queued so far (Sentry events too), waiting at most the shutdown
    /// timeout. Returns false when the deadline passed first.
    pub fn flush(&self) -> bool {
        log::flush();
        let deadline = Instant::now() + self.timeout;
        let exported = self
            .exporter
            .as_ref()
            .is_none_or(|exporter| exporter.flush(remaining(deadline)));
        #[cfg(feature = "sentry")]
        let exported = self
            .sentry
            .as_ref()
            .is_none_or(|sentry| sentry.flush(remaining(deadline)))
            && exported;
        exported
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        use std::io::Write as _;
        // Instrumented calls from here on cost one load and record nothing.
        flags::set_flags(0);
        // Writes the batched log lines; later ones are written at once.
        drop(self.batching.take());
        let _ = std::io::stdout().flush();
        // One deadline for every destination.
        let deadline = Instant::now() + self.timeout;
        #[cfg(feature = "sentry")]
        if let Some(sentry) = self.sentry.take()
            && !sentry.close(self.timeout)
        {
            eprintln!(
                "o11y: the Sentry events still queued were not sent within {:?} \
                 (shutdown_timeout); they are lost",
                self.timeout
            );
        }
        let Some(exporter) = self.exporter.take() else {
            return;
        };
        export::forget(&exporter);
        let finished = match std::sync::Arc::try_unwrap(exporter) {
            Ok(mut exporter) => exporter.shutdown(remaining(deadline)),
            Err(shared) => shared.flush(remaining(deadline)),
        };
        if !finished {
            eprintln!(
                "o11y: telemetry export did not finish within {:?} (shutdown_timeout); \
                 what was still queued is lost",
                self.timeout
            );
        }
    }
}

/// What is left of the time until `deadline`.
fn remaining(deadline: Instant) -> Duration {
    deadline.saturating_duration_since(Instant::now())
}
