//! A task run, as `#[task_traced]` drives it: the CONSUMER span `process
//! <task>` (child of the producer's span, or linked to it), the lifecycle
//! events, the metrics, and the outcome recorded by a drop guard so that a
//! panic (`panicked`) or a future dropped mid-run (`cancelled`) is counted.
//!
//! The consumer span's `messaging.system` and `messaging.destination.name`
//! (declared empty by the macro) are recorded here from the task's
//! context, so that they match the producer span's: the destination
//! defaults to the task's name (the producer's default); an unknown system
//! is left out rather than guessed. A span that continues the producer's
//! span keeps the `tracestate` the task carried, as the HTTP server span
//! keeps the caller's.
//!
//! Events (target `o11y::task`), written inside the consumer span so that
//! their log lines (and OTLP log records) carry its `trace_id` and
//! `span_id`, each with `task_id` and `task_name`: `task_started` (info), `task_succeeded` (info,
//! `duration_ms`), `task_retried` (warn, `duration_ms`, `reason`),
//! `task_failed` (error, `duration_ms`, `outcome` = failed | panicked |
//! cancelled, `error.type`, `error` when the error is `Display` or the
//! panic's message, `error.sources` when the error is a `std::error::Error`
//! with a `source()`).
//!
//! A failed or panicked run also puts an OpenTelemetry `exception` event on
//! the consumer span (`exception.type` is the error's type name, or
//! `panic`; `exception.message` its `Display`, or the panic's message).

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use super::context::TaskContext;
use super::error::TaskError;
use super::metrics::{DURATION, IN_PROGRESS, QUEUE_WAIT, RUNS};
use crate::db::Scope;
use crate::lifecycle::failure::Failure;
use crate::lifecycle::panic::{self, Captured, PANIC_TYPE};
use crate::lifecycle::{Operation, Parent};
use crate::metrics::{CounterHandle, GaugeHandle, HistogramHandle};
use crate::observe::METRICS;

thread_local! {
    /// How many task bodies are being run (or polled) on this thread.
    static RUNNING: Cell<u32> = const { Cell::new(0) };
    /// A retry reported by [`retry`] during the innermost running body.
    static RETRY: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Reports that the running task will be retried: its run is counted as
/// `outcome="retried"` and logged as `task_retried` with `reason`, whatever
/// the function then returns (a panic is still `panicked`). Re-enqueueing
/// is the caller's business: o11y does not own the queue. Returns `false`
/// (and does nothing) outside a `#[task_traced]` function.
///
/// ```
/// #[derive(Debug)]
/// struct Busy;
/// fn charge(attempt: u32) -> Result<(), Busy> {
///     if attempt < 3 {
///         o11y_runtime::task::retry("payment gateway busy"); // then put it back on the queue
///         return Err(Busy);
///     }
///     Ok(())
/// }
/// // Outside a task run it is a no-op.
/// assert!(charge(1).is_err());
/// assert!(!o11y_runtime::task::retry("not in a task"));
/// ```
pub fn retry(reason: impl Into<String>) -> bool {
    if RUNNING.with(Cell::get) == 0 {
        return false;
    }
    RETRY.with(|retry| *retry.borrow_mut() = Some(reason.into()));
    true
}

/// Marks a task body as running on this thread while alive; on drop
/// (also during unwinding) moves a reported retry into its run. A run
/// started inside another's body (a batch task running its items inline)
/// keeps the enclosing run's pending retry aside and hands it back.
struct Running<'a> {
    retry: &'a Mutex<Option<String>>,
    /// The retry the enclosing run reported before this one started.
    outer: Option<String>,
}

impl<'a> Running<'a> {
    fn enter(retry: &'a Mutex<Option<String>>) -> Self {
        RUNNING.with(|running| running.set(running.get() + 1));
        let outer = RETRY.with(|retry| retry.borrow_mut().take());
        Running { retry, outer }
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        RUNNING.with(|running| running.set(running.get().saturating_sub(1)));
        let reported =
            RETRY.with(|retry| std::mem::replace(&mut *retry.borrow_mut(), self.outer.take()));
        if let Some(reason) = reported {
            *self.retry.lock().unwrap_or_else(|e| e.into_inner()) = Some(reason);
        }
    }
}

/// One `#[task_traced]` function: its task name and module, fixed at
/// compile time, and its metric handles, resolved on the first run.
pub struct TaskSite {
    /// The `task` label and span name suffix: the `name` argument, or the
    /// function's name.
    pub name: &'static str,
    /// The function's `module_path!()`.
    pub module: &'static str,
    /// `link`: the producer's span is a link, not the parent.
    pub link: bool,
    handles: OnceLock<Handles>,
    /// Said once: the task's span is filtered out while its messages carry
    /// a trace.
    told_filtered: AtomicBool,
}

struct Handles {
    succeeded: CounterHandle,
    failed: CounterHandle,
    retried: CounterHandle,
    panicked: CounterHandle,
    cancelled: CounterHandle,
    duration: HistogramHandle,
    queue_wait: HistogramHandle,
    in_progress: GaugeHandle,
}

/// How a run ended, as `task_runs_total` counts it.
#[derive(Debug, Clone, Copy)]
enum Outcome {
    Succeeded,
    Failed,
    Retried,
    Panicked,
    Cancelled,
}

impl Handles {
    fn runs(&self, outcome: Outcome) -> &CounterHandle {
        match outcome {
            Outcome::Succeeded => &self.succeeded,
            Outcome::Failed => &self.failed,
            Outcome::Retried => &self.retried,
            Outcome::Panicked => &self.panicked,
            Outcome::Cancelled => &self.cancelled,
        }
    }
}

impl TaskSite {
    /// A call site; `const` so it can be a `static`.
    pub const fn new(name: &'static str, module: &'static str, link: bool) -> Self {
        TaskSite {
            name,
            module,
            link,
            handles: OnceLock::new(),
            told_filtered: AtomicBool::new(false),
        }
    }

    /// A span below `logging.level` cannot continue (or link) the
    /// producer's trace: the run's lines carry no trace ids and what it
    /// publishes starts new traces. Said once per task, as a warning.
    #[cold]
    fn tell_filtered(&self) {
        if !self.told_filtered.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                target: "o11y::task",
                task = self.name,
                "the span of task {} is below logging.level (target {}): its runs are not \
                 part of their producers' traces; let that target through at the span's level",
                self.name,
                self.module,
            );
        }
    }

    fn handles(&self) -> &Handles {
        self.handles.get_or_init(|| {
            let runs = |outcome| RUNS.labels([self.name, outcome]);
            Handles {
                succeeded: runs("succeeded"),
                failed: runs("failed"),
                retried: runs("retried"),
                panicked: runs("panicked"),
                cancelled: runs("cancelled"),
                duration: DURATION.labels([self.name]),
                queue_wait: QUEUE_WAIT.labels([self.name]),
                in_progress: IN_PROGRESS.labels([self.name]),
            }
        })
    }
}

impl std::fmt::Debug for TaskSite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskSite")
            .field("name", &self.name)
            .field("module", &self.module)
            .field("link", &self.link)
            .finish()
    }
}

/// A task run in progress; records its outcome when dropped. Created by
/// the code `#[task_traced]` generates, only when o11y is on.
#[must_use]
pub struct TaskRun {
    site: &'static TaskSite,
    task_id: String,
    /// The consumer span, its clock.
    operation: Operation,
    /// See `CallGuard`: set while the body runs (sync) or is polled (async).
    in_body: AtomicBool,
    retry: Mutex<Option<String>>,
    /// The task's N+1 scope, current while the body runs; closed (and any
    /// detection reported in the span) when the run ends. A lock because an
    /// async body is polled through `&self`.
    scope: Mutex<Option<Scope>>,
    /// `Some` once the body returned: `None` inside for success.
    result: Option<Option<TaskError>>,
    /// The panic an async body's poll unwound with, kept from the
    /// panicking thread until the run is dropped (the executor may drop it
    /// later, elsewhere).
    panic: Mutex<Option<Arc<Captured>>>,
    /// Metrics were on when the run started (`metrics.enabled`): the run is
    /// counted, and its in-progress gauge raised.
    metrics: bool,
}

impl TaskRun {
    /// Starts a run of `site` for the task described by `context`; `None`
    /// when o11y is off (`flags` is `observe::flags()`). `make_span`
    /// creates the CONSUMER span, with the fields `messaging.system`,
    /// `messaging.destination.name` and `messaging.message.id` empty
    /// (recorded here from `context`); it is created as a child of the producer's
    /// span, keeping its `tracestate` (or of the current span, with a link
    /// to the producer's, for a `link` site).
    pub fn start(
        site: &'static TaskSite,
        flags: u8,
        context: TaskContext,
        make_span: impl FnOnce() -> tracing::Span,
    ) -> Option<Self> {
        if flags == 0 {
            return None;
        }
        let started = SystemTime::now();
        // A message without an id of its own gets one for its log lines
        // (`task_id`), not as its `messaging.message.id`: a redelivery
        // would get another.
        let message_id = context
            .task_id
            .as_deref()
            .map(str::trim)
            .filter(|id| !id.is_empty());
        let task_id =
            message_id.map_or_else(|| format!("{:032x}", fastrand::u128(..)), str::to_owned);
        let remote = context.trace.remote_parent();
        let parent = match (&remote, site.link) {
            (Some(parent), false) => Parent::Remote(parent),
            _ => Parent::Current,
        };
        let operation = Operation::start(true, parent, true, make_span);
        let span = operation.span_or_none();
        if span.is_disabled() && remote.is_some() {
            site.tell_filtered();
        }
        match remote {
            Some(remote) if site.link => {
                crate::subscriber::current::add_link(span, remote.to_span_context());
            }
            // The span continues the producer's trace: it keeps that trace's
            // state, for its export and what it calls or publishes.
            Some(remote) if !span.is_disabled() => {
                crate::subscriber::current::keep_trace_state(span, remote.trace_state);
            }
            _ => {}
        }
        record_messaging(span, site, &context);
        if message_id.is_some() {
            span.record("messaging.message.id", task_id.as_str());
        }
        let metrics = flags & METRICS != 0;
        if metrics {
            let handles = site.handles();
            if let Some(wait) = context.queue_wait(started) {
                handles.queue_wait.observe(wait.as_secs_f64());
            }
            handles.in_progress.inc();
        }
        let scope = Scope::new(site.name).with_span(span.clone());
        let run = TaskRun {
            site,
            task_id,
            scope: Mutex::new(Some(scope)),
            operation,
            in_body: AtomicBool::new(true),
            retry: Mutex::new(None),
            result: None,
            panic: Mutex::new(None),
            metrics,
        };
        run.event(Event::Started);
        Some(run)
    }

    /// Like [`TaskRun::start`], for an async function: the body is not
    /// running until [`TaskRun::run`] polls it.
    pub fn start_async(
        site: &'static TaskSite,
        flags: u8,
        context: TaskContext,
        make_span: impl FnOnce() -> tracing::Span,
    ) -> Option<Self> {
        let run = Self::start(site, flags, context, make_span)?;
        run.in_body.store(false, Ordering::Relaxed);
        Some(run)
    }

    /// The consumer span, to enter (sync) or instrument the future with (async).
    pub fn span(&self) -> &tracing::Span {
        self.operation.span_or_none()
    }

    /// Runs a sync body inside the run (so [`retry`] reaches it); without a
    /// run (o11y off), just calls it.
    pub fn call<R>(run: &Option<Self>, body: impl FnOnce() -> R) -> R {
        match run {
            Some(run) => {
                let _entered = run.span().enter();
                let _running = Running::enter(&run.retry);
                let mut scope = run.scope.lock().unwrap_or_else(|e| e.into_inner());
                let _scope = scope.as_mut().map(Scope::enter);
                body()
            }
            None => body(),
        }
    }

    /// Polls an async body inside the run, marking the time spent in it.
    pub async fn run<F: Future>(&self, future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        std::future::poll_fn(|cx| {
            let _entered = self.span().enter();
            let _running = Running::enter(&self.retry);
            let mut scope = self.scope.lock().unwrap_or_else(|e| e.into_inner());
            let _scope = scope.as_mut().map(Scope::enter);
            self.in_body.store(true, Ordering::Relaxed);
            let polling = Polling(self);
            let poll = future.as_mut().poll(cx);
            // Not reached when the poll panics: the flag stays set, and
            // `polling` keeps the panic.
            std::mem::forget(polling);
            self.in_body.store(false, Ordering::Relaxed);
            poll
        })
        .await
    }

    /// Records how the body ended (from the returned value: `Some` for an
    /// error) and ends the run.
    pub fn finish(run: Option<Self>, error: Option<TaskError>) {
        if let Some(mut run) = run {
            run.result = Some(error);
        }
    }

    fn event(&self, event: Event<'_>) {
        let task_id = self.task_id.as_str();
        let task_name = self.site.name;
        let duration_ms = || crate::clock::millis(self.operation.elapsed());
        self.span().in_scope(|| match event {
            Event::Started => tracing::info!(
                target: "o11y::task", task_id, task_name, "task_started"
            ),
            Event::Succeeded => tracing::info!(
                target: "o11y::task", task_id, task_name, duration_ms = duration_ms(), "task_succeeded"
            ),
            Event::Retried(reason) => tracing::warn!(
                target: "o11y::task", task_id, task_name, duration_ms = duration_ms(), reason,
                "task_retried"
            ),
            Event::Failed(outcome, error) => tracing::error!(
                target: "o11y::task", task_id, task_name, duration_ms = duration_ms(), outcome,
                error.type = error.error_type, error = error.message.as_deref(),
                error.sources = error.sources.as_deref(),
                "task_failed"
            ),
        });
    }
}

enum Event<'a> {
    Started,
    Succeeded,
    Retried(&'a str),
    Failed(&'static str, &'a TaskError),
}

/// One poll of an async body in progress; dropped (rather than forgotten)
/// only when the poll panics, on the panicking thread: it keeps the panic
/// the hook captured, for the run's end.
struct Polling<'a>(&'a TaskRun);

impl Drop for Polling<'_> {
    fn drop(&mut self) {
        *self.0.panic.lock().unwrap_or_else(|e| e.into_inner()) = panic::latest();
    }
}

impl Drop for TaskRun {
    fn drop(&mut self) {
        let stopped = self.operation.stop();
        // Reports an N+1 of the task inside its span, before the span ends.
        drop(
            self.scope
                .get_mut()
                .unwrap_or_else(|e| e.into_inner())
                .take(),
        );
        let retry = self.retry.lock().unwrap_or_else(|e| e.into_inner()).take();
        let failure = |error_type: &'static str, message: Option<&str>| TaskError {
            error_type,
            message: message.map(str::to_owned),
            sources: None,
        };
        let (outcome, failed) = match (self.result.take(), retry) {
            // A poll that panicked leaves `in_body` set, however late the
            // executor drops the run; the poll kept the panic. A sync
            // body's panic unwinds through here, on its thread.
            (None, _) if self.in_body.load(Ordering::Relaxed) => {
                let kept = self
                    .panic
                    .get_mut()
                    .unwrap_or_else(|e| e.into_inner())
                    .take();
                let captured =
                    kept.or_else(|| std::thread::panicking().then(panic::latest).flatten());
                self.operation.fail_unwound(captured.as_deref());
                let message = captured.as_deref().map(Captured::message);
                (
                    Outcome::Panicked,
                    Some(("panicked", failure(PANIC_TYPE, message))),
                )
            }
            (None, _) => {
                self.operation.fail("cancelled", None);
                (
                    Outcome::Cancelled,
                    Some(("cancelled", failure("cancelled", None))),
                )
            }
            (Some(_), Some(reason)) => {
                self.event(Event::Retried(&reason));
                (Outcome::Retried, None)
            }
            (Some(None), None) => {
                self.event(Event::Succeeded);
                (Outcome::Succeeded, None)
            }
            (Some(Some(error)), None) => {
                self.operation.fail(error.error_type, error.message.clone());
                let message = error.message.as_ref().map(|m| m as &dyn std::fmt::Display);
                self.operation
                    .fail_with(&Failure::error(error.error_type, message));
                (Outcome::Failed, Some(("failed", error)))
            }
        };
        if let Some((ended, error)) = failed {
            self.event(Event::Failed(ended, &error));
        }
        if self.metrics {
            let handles = self.site.handles();
            handles.runs(outcome).inc();
            handles.duration.observe(stopped.elapsed.as_secs_f64());
            handles.in_progress.dec();
        }
        self.operation.close(stopped);
    }
}

/// Records the consumer span's `messaging.destination.name` (the task's
/// name when the context has none) and `messaging.system` (left out when
/// the context has none).
fn record_messaging(span: &tracing::Span, site: &TaskSite, context: &TaskContext) {
    let destination = context.destination.as_deref().unwrap_or(site.name);
    span.record("messaging.destination.name", destination);
    if let Some(system) = context.system.as_deref() {
        span.record("messaging.system", system);
    }
}
