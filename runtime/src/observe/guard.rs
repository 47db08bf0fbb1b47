//! The guard that lives for the duration of an observed call and records
//! its outcome when dropped: at the end of the body, during a panic's
//! unwinding, or when a future is dropped before completion.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use crate::db::scope::{self as n_plus_one, CallScope};
use crate::lifecycle::{self, Operation, Parent};
use crate::metrics::{CounterVec, GaugeVec, HistogramVec, MetricDesc};
use crate::register_metric;

use super::site::FnSite;
use crate::flags::{METRICS, TRACING};

static FUNCTION_CALLS: CounterVec<3> = CounterVec::new(
    MetricDesc::counter(
        "function_calls_total",
        "Calls of instrumented functions, by result",
    )
    .labels(&["function", "module", "result"]),
);
static FUNCTION_DURATION: HistogramVec<2> = HistogramVec::new(
    MetricDesc::histogram(
        "function_calls_duration_seconds",
        "Duration of instrumented function calls",
    )
    .unit("seconds")
    .labels(&["function", "module"]),
);
static FUNCTION_CONCURRENT: GaugeVec<2> = GaugeVec::new(
    MetricDesc::gauge(
        "function_calls_concurrent",
        "Calls of instrumented functions in progress",
    )
    .labels(&["function", "module"]),
);
register_metric!(FUNCTION_CALLS);
register_metric!(FUNCTION_DURATION);
register_metric!(FUNCTION_CONCURRENT);

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
}

/// Records one observed call when dropped. Created by the code
/// `#[observe]` generates, only when o11y is on.
#[must_use]
pub struct CallGuard {
    site: &'static FnSite,
    metrics: bool,
    /// The call's span, clock and exemplar.
    operation: Operation,
    outcome: Outcome,
    /// The body is running (sync), or being polled (async): a panic seen
    /// while this is set is the body's. An async call dropped while it waits
    /// is cancelled, even if the drop happens during another task's panic.
    in_body: AtomicBool,
    /// A sync call's N+1 scope is entered while its body runs (left when
    /// the guard drops); an async call's during each poll of its body (see
    /// [`CallGuard::run`]).
    sync_scope: bool,
}

impl CallGuard {
    /// Starts a call of `site`; `None` when o11y is off, which is all an
    /// uninstrumented run pays. `flags` is [`super::flags()`], read once by
    /// the caller; `make_span` creates the function's `tracing` span and is
    /// called only when the call will be recorded (or its fields are needed
    /// by log lines).
    #[inline(always)]
    pub fn start(
        site: &'static FnSite,
        flags: u8,
        make_span: impl FnOnce() -> tracing::Span,
    ) -> Option<Self> {
        if flags == 0 {
            return None;
        }
        let guard = Self::start_on(site, flags, make_span, true);
        n_plus_one::enter_call();
        Some(guard)
    }

    /// Like [`CallGuard::start`], for an async call: the body is not
    /// running until [`CallGuard::run`] polls it.
    #[inline(always)]
    pub fn start_async(
        site: &'static FnSite,
        flags: u8,
        make_span: impl FnOnce() -> tracing::Span,
    ) -> Option<Self> {
        if flags == 0 {
            return None;
        }
        let guard = Self::start_on(site, flags, make_span, false);
        guard.in_body.store(false, Ordering::Relaxed);
        Some(guard)
    }

    /// Polls the body of an async call within the call's span (what
    /// `tracing::Instrument` does, without a second handle on the span),
    /// marking the time spent inside it; the call's N+1 scope is current
    /// during each poll.
    pub async fn run<F: Future>(&self, future: F) -> F::Output {
        let span = self.operation.span();
        let mut body = std::pin::pin!(InSpan {
            span,
            body: Some(future),
        });
        let mut scope = CallScope::new(self.site.function, span);
        std::future::poll_fn(|cx| {
            self.in_body.store(true, Ordering::Relaxed);
            // The span is entered with the scope current: entering it hands
            // the scope the SQLite queries waiting on it (db::pending).
            let poll = scope.poll(|| {
                let _entered = span.map(tracing::Span::enter);
                body.as_mut().poll_body(cx)
            });
            // Not reached when the poll panics: the flag stays set.
            self.in_body.store(false, Ordering::Relaxed);
            poll
        })
        .await
    }

    fn start_on(
        site: &'static FnSite,
        flags: u8,
        make_span: impl FnOnce() -> tracing::Span,
        sync_scope: bool,
    ) -> Self {
        let options = site.options;
        let metrics = options.metrics && flags & METRICS != 0;
        let operation = Operation::start(
            options.span && flags & TRACING != 0,
            Parent::Current,
            options.span && options.span_for_logs,
            make_span,
        );
        if metrics && let Some(concurrent) = &site.handles().concurrent {
            concurrent.inc();
        }
        CallGuard {
            site,
            metrics,
            operation,
            outcome: Outcome::Pending,
            in_body: AtomicBool::new(true),
            sync_scope,
        }
    }

    /// Enters the span for the rest of a sync call; `None` without a span.
    #[inline]
    pub fn enter(&self) -> Option<tracing::span::Entered<'_>> {
        self.operation.span().map(tracing::Span::enter)
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
}

pin_project_lite::pin_project! {
    /// The body of an async call, dropped within the call's span: a body
    /// cancelled while it waits drops its locals there, whose drops may log.
    struct InSpan<'a, F> {
        span: Option<&'a tracing::Span>,
        #[pin]
        body: Option<F>,
    }

    impl<'a, F> PinnedDrop for InSpan<'a, F> {
        fn drop(this: Pin<&mut Self>) {
            let mut this = this.project();
            let _entered = this.span.map(tracing::Span::enter);
            this.body.set(None);
        }
    }
}

impl<F: Future> InSpan<'_, F> {
    fn poll_body(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        match self.project().body.as_pin_mut() {
            Some(body) => body.poll(cx),
            None => unreachable!("the body is only taken when InSpan is dropped"),
        }
    }
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        // Before the span ends: the scope may write to it. `raise` mode's
        // panic waits until the call is recorded.
        let raise = if self.sync_scope {
            n_plus_one::leave_call(self.site.function, self.operation.span())
        } else {
            None
        };
        if raise.is_some() {
            // The call ends in that panic, as an async call's does.
            self.outcome = Outcome::Error("panic");
        }
        let stopped = self.operation.stop();
        let outcome = match self.outcome {
            Outcome::Pending
                if self.in_body.load(Ordering::Relaxed) && std::thread::panicking() =>
            {
                Outcome::Error("panic")
            }
            Outcome::Pending => Outcome::Error("cancelled"),
            done => done,
        };
        if let Outcome::Error(error_type) = outcome {
            self.operation.fail(error_type, None);
        }
        if self.metrics {
            let handles = self.site.handles();
            let exemplar = self.operation.exemplar();
            let calls = match outcome {
                Outcome::Error(_) => &handles.error,
                _ => &handles.ok,
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
