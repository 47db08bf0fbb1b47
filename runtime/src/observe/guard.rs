//! The guard that lives for the duration of an observed call and records
//! its outcome when dropped: at the end of the body, during a panic's
//! unwinding, or when a future is dropped before completion. An `Err` that
//! `err` logs and a panic also put an `exception` event on the call's span.

use std::borrow::Cow;
use std::fmt;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use crate::db::scope::{self as n_plus_one, CallScope, EnteredScope};
use crate::flags::{METRICS, TRACING};
use crate::lifecycle::failure::Failure;
use crate::lifecycle::panic::PANIC_TYPE;
use crate::lifecycle::{self, Operation, Parent};
use crate::metrics::register_own_metric;
use crate::metrics::{CounterVec, GaugeVec, HistogramVec, MetricDesc};

use super::site::FnSite;

// Both link a sampled call's own span through the lifecycle (`*_with_span`);
// a plain call is one it did not sample, which must not borrow an enclosing
// span (`MetricDesc::exemplars`).
static FUNCTION_CALLS: CounterVec<3> = CounterVec::new(
    MetricDesc::counter(
        "function_calls_total",
        "Calls of instrumented functions, by result",
    )
    .labels(&["function", "module", "result"])
    .exemplars(false),
);
static FUNCTION_DURATION: HistogramVec<2> = HistogramVec::new(
    MetricDesc::histogram(
        "function_calls_duration_seconds",
        "Duration of instrumented function calls",
    )
    .unit("seconds")
    .labels(&["function", "module"])
    .exemplars(false),
);
static FUNCTION_CONCURRENT: GaugeVec<2> = GaugeVec::new(
    MetricDesc::gauge(
        "function_calls_concurrent",
        "Calls of instrumented functions in progress",
    )
    .labels(&["function", "module"]),
);
register_own_metric!(FUNCTION_CALLS);
register_own_metric!(FUNCTION_DURATION);
register_own_metric!(FUNCTION_CONCURRENT);

pub(super) fn function_metrics() -> (
    &'static CounterVec<3>,
    &'static HistogramVec<2>,
    &'static GaugeVec<2>,
) {
    (&FUNCTION_CALLS, &FUNCTION_DURATION, &FUNCTION_CONCURRENT)
}

#[derive(Clone, Copy)]
enum Outcome {
    Pending,
    Ok,
    Error(&'static str),
    /// An error already on the span, with its `exception` event (`err`).
    Reported,
    /// The body panicked.
    Panicked,
}

/// Records one observed call when dropped. Created by the code
/// `#[observe]` generates, only when o11y is on.
#[must_use]
pub struct CallGuard {
    site: &'static FnSite,
    metrics: bool,
    /// The call's span, clock and exemplar.
    operation: Operation,
    /// A sync call's span is entered by the guard itself, for the whole
    /// body (so the generated code holds no `Entered` of its own), through
    /// the span's dispatcher as `Span::enter` does: an `EnteredSpan` is not
    /// `Send`, nor would an async call's future be.
    entered: bool,
    outcome: Outcome,
    /// The body is running (sync), or being polled (async): a guard
    /// dropped unfinished while this is set was unwound by the body's
    /// panic (a poll that panicked never clears it, however late the
    /// future is dropped). An async call dropped while it waits is
    /// cancelled, even if the drop happens during another task's panic.
    in_body: AtomicBool,
    /// A sync call's N+1 scope is entered while its body runs (left when
    /// the guard drops); an async call's during each poll of its body (see
    /// [`CallGuard::run`]).
    sync_scope: bool,
}

/// Runs the body of a sync observed function, as a closure (so that its
/// `return`s come back here): called through an `FnOnce` bound so that the
/// closure is one (a body returning a borrow of a captured `&mut`, `&mut
/// self.items`, cannot be an `FnMut` closure's).
#[inline(always)]
pub fn call_once<R>(body: impl FnOnce() -> R) -> R {
    body()
}

/// How the span of a call is made: from its site (no fields), or by the
/// generated `tracing::span!` that has the fields' values.
type MakeSpan<'a> = Option<&'a dyn Fn() -> tracing::Span>;

impl CallGuard {
    /// Starts a sync call of `site`, its span (if any) made from the site
    /// and entered until the guard drops; `None` when o11y is off, which is
    /// all an uninstrumented run pays. `flags` is [`super::flags()`], read
    /// once by the caller.
    #[inline(always)]
    pub fn start(site: &'static FnSite, flags: u8) -> Option<Self> {
        if flags == 0 {
            return None;
        }
        Self::start_sync(site, flags, None)
    }

    /// [`CallGuard::start`] for a function whose span has fields:
    /// `make_span` creates it, and is called only when the call will be
    /// recorded (or its fields are needed by log lines).
    #[inline(always)]
    pub fn start_with(
        site: &'static FnSite,
        flags: u8,
        make_span: &dyn Fn() -> tracing::Span,
    ) -> Option<Self> {
        if flags == 0 {
            return None;
        }
        Self::start_sync(site, flags, Some(make_span))
    }

    /// Like [`CallGuard::start`], for an async call: the body is not
    /// running until [`CallGuard::run`] polls it.
    #[inline(always)]
    pub fn start_async(site: &'static FnSite, flags: u8) -> Option<Self> {
        if flags == 0 {
            return None;
        }
        Self::start_on(site, flags, None, false)
    }

    /// [`CallGuard::start_async`] for a function whose span has fields.
    #[inline(always)]
    pub fn start_async_with(
        site: &'static FnSite,
        flags: u8,
        make_span: &dyn Fn() -> tracing::Span,
    ) -> Option<Self> {
        if flags == 0 {
            return None;
        }
        Self::start_on(site, flags, Some(make_span), false)
    }

    // Not generic, and not inlined into the generated code: one copy for
    // every observed function. Returns the `Option` so that the guard is
    // built in place, where the caller keeps it.
    fn start_sync(site: &'static FnSite, flags: u8, make_span: MakeSpan<'_>) -> Option<Self> {
        let mut guard = Self::start_on(site, flags, make_span, true);
        n_plus_one::enter_call();
        if let Some(guard) = &mut guard {
            guard.enter();
        }
        guard
    }

    /// Enters the span, if any, until [`CallGuard::exit`].
    fn enter(&mut self) {
        if let Some(span) = self.operation.span() {
            span.with_subscriber(|(id, dispatch)| dispatch.enter(id));
            self.entered = true;
        }
    }

    /// Leaves the span if the guard entered it.
    fn exit(&mut self) {
        if std::mem::take(&mut self.entered)
            && let Some(span) = self.operation.span()
        {
            span.with_subscriber(|(id, dispatch)| dispatch.exit(id));
        }
    }

    /// Polls the body of an async call within the call's span (what
    /// `tracing::Instrument` does, without a second handle on the span),
    /// marking the time spent inside it; the call's N+1 scope is current
    /// during each poll. Without a guard (o11y off), the body as it is.
    /// One future type, not an `async fn`: the code instantiated for each
    /// observed async function is its `poll` and its drop, which call the
    /// non-generic [`Polled`] around the body's own.
    pub fn run<F: Future>(guard: Option<&Self>, future: F) -> Run<'_, F> {
        Run {
            call: guard.map(Polled::new),
            body: Some(future),
        }
    }

    fn start_on(
        site: &'static FnSite,
        flags: u8,
        make_span: MakeSpan<'_>,
        sync_scope: bool,
    ) -> Option<Self> {
        let options = site.options;
        let metrics = options.metrics && flags & METRICS != 0;
        let make_span = || match make_span {
            Some(make_span) => make_span(),
            None => site.new_span(),
        };
        let operation = Operation::start(
            options.span && flags & TRACING != 0,
            Parent::Current,
            options.span && options.span_for_logs,
            make_span,
        );
        if let (Some(name), Some(span)) = (site.exported_name(), operation.span()) {
            crate::subscriber::current::with_recording(span, |recording| {
                recording.set_name(Cow::Borrowed(name));
            });
        }
        if metrics && let Some(concurrent) = &site.handles().concurrent {
            concurrent.inc();
        }
        Some(CallGuard {
            site,
            metrics,
            operation,
            entered: false,
            outcome: Outcome::Pending,
            in_body: AtomicBool::new(sync_scope),
            sync_scope,
        })
    }

    /// Records how the call ended, from its return value's [`super::Check`].
    /// The call itself is recorded when the guard is dropped, in place at
    /// the end of the generated block: taking the guard by value here would
    /// copy its ~150 bytes on every call. A guard that never gets here was
    /// unwound (a panic) or dropped while waiting (cancelled).
    #[inline(always)]
    pub fn finish(guard: &mut Option<Self>, error_type: Option<&'static str>) {
        if let Some(guard) = guard {
            guard.outcome = match error_type {
                None => Outcome::Ok,
                Some(error_type) => Outcome::Error(error_type),
            };
        }
    }

    /// [`CallGuard::finish`] for a function with `err`: an `Err` also puts
    /// an `exception` event on the call's span, with `error_type` and the
    /// error's `Display`, `error` (the value `err` logs).
    #[inline(always)]
    pub fn finish_err(
        guard: &mut Option<Self>,
        error_type: Option<&'static str>,
        error: Option<&dyn fmt::Display>,
    ) {
        if let Some(guard) = guard {
            guard.outcome = match (error_type, error) {
                (None, _) => Outcome::Ok,
                (Some(error_type), Some(error)) => guard.report_error(error_type, error),
                (Some(error_type), None) => Outcome::Error(error_type),
            };
        }
    }

    #[cold]
    #[inline(never)]
    fn report_error(&self, error_type: &'static str, error: &dyn fmt::Display) -> Outcome {
        self.operation
            .fail_with(&Failure::error(error_type, Some(error)));
        Outcome::Reported
    }
}

pin_project_lite::pin_project! {
    /// The future of [`CallGuard::run`]: the body, polled within the call's
    /// span and N+1 scope, and dropped within the span (a body cancelled
    /// while it waits drops its locals there, whose drops may log), after
    /// the scope.
    pub struct Run<'a, F> {
        call: Option<Polled<'a>>,
        #[pin]
        body: Option<F>,
    }

    impl<'a, F> PinnedDrop for Run<'a, F> {
        fn drop(this: Pin<&mut Self>) {
            let mut this = this.project();
            let _entered = Polled::leave_for_drop(this.call.take());
            this.body.set(None);
        }
    }
}

impl<F: Future> Future for Run<'_, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let Some(body) = this.body.as_pin_mut() else {
            unreachable!("the body is only taken when Run is dropped")
        };
        let Some(call) = this.call else {
            return body.poll(cx);
        };
        let polling = call.enter();
        let poll = body.poll(cx);
        // Not reached when the poll panics: `polling`'s drop leaves the
        // span and the scope, and the guard sees the body's panic.
        polling.leave(poll.is_ready());
        poll
    }
}

/// What [`Run`] keeps of an instrumented call besides its body: the guard
/// and the call's N+1 scope. Its methods are what each poll and the drop
/// do around the body, written once here rather than in the `poll` each
/// observed async function instantiates.
struct Polled<'a> {
    guard: &'a CallGuard,
    scope: CallScope<'a>,
}

/// One poll of the body in progress: the scope entered, then the span
/// (left in the reverse order). Dropped without [`Polling::leave`], the
/// poll panicked: the panic goes on the call's span then, on the
/// panicking thread, however late the future itself is dropped.
struct Polling<'p, 'a> {
    entered: Option<tracing::span::Entered<'a>>,
    scope: Option<EnteredScope<'p, 'a>>,
    guard: &'a CallGuard,
}

impl<'a> Polled<'a> {
    fn new(guard: &'a CallGuard) -> Self {
        Polled {
            guard,
            scope: CallScope::new(guard.site.function(), guard.operation.span()),
        }
    }

    fn enter(&mut self) -> Polling<'_, 'a> {
        let guard = self.guard;
        guard.in_body.store(true, Ordering::Relaxed);
        // The span is entered with the scope current: entering it hands
        // the scope the SQLite queries waiting on it (db::pending).
        let scope = self.scope.enter();
        Polling {
            entered: guard.operation.span().map(tracing::Span::enter),
            scope: Some(scope),
            guard,
        }
    }

    /// Before the body is dropped: the scope is closed (reporting what it
    /// saw, without a panic), and the span entered for the body's drop.
    fn leave_for_drop(call: Option<Self>) -> Option<tracing::span::Entered<'a>> {
        let call = call?;
        drop(call.scope);
        call.guard.operation.span().map(tracing::Span::enter)
    }
}

impl Polling<'_, '_> {
    fn leave(mut self, ready: bool) {
        drop(self.entered.take());
        self.guard.in_body.store(false, Ordering::Relaxed);
        if let Some(scope) = self.scope.take() {
            scope.leave(ready);
        }
    }
}

impl Drop for Polling<'_, '_> {
    fn drop(&mut self) {
        // Still set: the body's poll unwound (`leave` takes it). Recorded
        // with the span still entered, the scope after it as before.
        if self.scope.is_some() {
            self.guard.operation.fail_panicking();
        }
    }
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        // A sync call's span is left first, as the body's end leaves it.
        self.exit();
        // Before the span ends: the scope may write to it. `raise` mode's
        // panic waits until the call is recorded.
        let raise = if self.sync_scope {
            n_plus_one::leave_call(self.site.function(), self.operation.span())
        } else {
            None
        };
        if raise.is_some() {
            // The call ends in that panic, as an async call's does.
            self.outcome = Outcome::Error("panic");
        }
        let stopped = self.operation.stop();
        let outcome = match self.outcome {
            Outcome::Pending if self.in_body.load(Ordering::Relaxed) => Outcome::Panicked,
            Outcome::Pending => Outcome::Error("cancelled"),
            done => done,
        };
        match outcome {
            Outcome::Error(error_type) => self.operation.fail(error_type, None),
            // A sync body's panic unwinds through here, on its thread.
            Outcome::Panicked if self.sync_scope => self.operation.fail_panicking(),
            // An async body's poll put it on the span as it unwound.
            Outcome::Panicked => self.operation.fail(PANIC_TYPE, None),
            Outcome::Pending | Outcome::Ok | Outcome::Reported => {}
        }
        if self.metrics {
            let handles = self.site.handles();
            let exemplar = self.operation.exemplar();
            let calls = match outcome {
                Outcome::Error(_) | Outcome::Reported | Outcome::Panicked => &handles.error,
                Outcome::Pending | Outcome::Ok => &handles.ok,
            };
            lifecycle::count(calls, exemplar);
            lifecycle::observe(&handles.duration, stopped.elapsed, exemplar);
            if let Some(concurrent) = &handles.concurrent {
                concurrent.dec();
            }
        }
        self.operation.close(stopped);
        if let Some(report) = raise {
            n_plus_one::raise(&report);
        }
    }
}
