//! One lifecycle for an instrumented operation (an observed call, an HTTP
//! request served or sent, a task run): what `#[observe]`, the HTTP server
//! layer, the HTTP client and tasks share, each of them a thin adapter that
//! adds only what is its own (attributes, propagation, events).
//!
//! - **Start**: the sampling decision, taken before the span exists so that
//!   an operation that is not recorded never pays for a recorded span; one
//!   clock read (the wall clock only when the span is recorded, as it is
//!   the span's start); the span created with that decision; the ids an
//!   exemplar links to.
//! - **Finish**: the clock stopped once, giving the duration for the
//!   metrics and the end time of a recorded span; the outcome on the span
//!   (status error with `error.type`, and for an error returned or a panic
//!   the OpenTelemetry `exception` event, through [`failure::report`]);
//!   the metrics with the exemplar; the span closed at that end time.
//!
//! Each integration opens and ends its N+1 scope itself, because where a
//! scope is current differs (the body of a sync call, each poll of a
//! future, a request's service call).
//!
//! Panics reach the operations they unwind through from the panic hook
//! `init()` installs ([`panic`]).

pub(crate) mod failure;
pub(crate) mod panic;

use std::time::{Duration, SystemTime};

use opentelemetry::trace::{SpanId, TraceId};

use crate::clock::Clock;
use crate::metrics::{CounterHandle, HistogramHandle};
use crate::subscriber::current::{decide, decide_with_remote_parent, set_error};
use crate::trace::decide::{Decision, with_decision, with_end};
use crate::trace::w3c::RemoteParent;

/// Where a new operation's span belongs.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Parent<'a> {
    /// Under the current span (a new trace outside any).
    Current,
    /// Under a span of another process, from a W3C `traceparent`.
    Remote(&'a RemoteParent),
}

/// The ids of a recorded span, which the operation's metrics link to.
pub(crate) type Exemplar = Option<(TraceId, SpanId)>;

/// A started operation; see the module documentation. Small on purpose:
/// `#[observe]`'s guard holds one for every call.
pub(crate) struct Operation {
    span: Option<tracing::Span>,
    clock: Clock,
    /// The ids of the span when it is recorded.
    recorded: Option<(TraceId, SpanId)>,
    /// The span is head-sampled: exported for sure, so an exemplar may
    /// link to it. A span held for the tail rules may be dropped when its
    /// trace ends, after its metrics were recorded: it gets none.
    sampled: bool,
}

/// A stopped operation's clock.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stopped {
    /// How long the operation took.
    pub(crate) elapsed: Duration,
    /// When it ended, read only when its span is recorded.
    end: Option<SystemTime>,
}

impl Operation {
    /// Starts an operation. With `traced` (o11y's tracing on, and the
    /// operation wants a span), the decision is taken for a span under
    /// `parent`; the span is created when it will be recorded, or always
    /// with `span_unless_recorded` (log lines need its fields, or the
    /// integration always carries one). Without a decision (tracing off,
    /// or o11y not the active subscriber), `make_span` still runs when
    /// `span_unless_recorded`.
    #[inline]
    pub(crate) fn start(
        traced: bool,
        parent: Parent<'_>,
        span_unless_recorded: bool,
        make_span: impl FnOnce() -> tracing::Span,
    ) -> Self {
        Self::start_deciding(traced, parent, span_unless_recorded, make_span).0
    }

    /// [`Operation::start`], also returning the decision taken for the span
    /// (what a client sends downstream).
    #[inline]
    pub(crate) fn start_deciding(
        traced: bool,
        parent: Parent<'_>,
        span_unless_recorded: bool,
        make_span: impl FnOnce() -> tracing::Span,
    ) -> (Self, Option<Decision>) {
        let decision = if traced {
            match parent {
                Parent::Current => decide(),
                Parent::Remote(remote) => decide_with_remote_parent(remote),
            }
        } else {
            None
        };
        let (clock, span, recorded) = match decision {
            // Recorded: one wall-clock read serves the span and the duration.
            Some(mut decision @ Decision { recorded: true, .. }) => {
                let (clock, now) = Clock::wall();
                decision.start = Some(now);
                let span = with_decision(decision, make_span);
                let recorded =
                    (!span.is_disabled()).then_some((decision.trace_id, decision.span_id));
                (clock, Some(span), recorded)
            }
            Some(decision) if span_unless_recorded => (
                Clock::mono(),
                Some(with_decision(decision, make_span)),
                None,
            ),
            None if span_unless_recorded => (Clock::mono(), Some(make_span()), None),
            _ => (Clock::mono(), None, None),
        };
        let operation = Operation {
            span,
            clock,
            recorded,
            sampled: decision.is_some_and(|decision| decision.sampled),
        };
        (operation, decision)
    }

    /// The operation's span, if it has one.
    #[inline]
    pub(crate) fn span(&self) -> Option<&tracing::Span> {
        self.span.as_ref()
    }

    /// The operation's span, or a disabled one: for an integration that
    /// always asks for a span, and so always has one unless it was
    /// filtered out.
    #[inline]
    pub(crate) fn span_or_none(&self) -> &tracing::Span {
        static NONE: std::sync::LazyLock<tracing::Span> =
            std::sync::LazyLock::new(tracing::Span::none);
        self.span.as_ref().unwrap_or(&NONE)
    }

    /// The ids of the span when it is recorded (head-sampled, or held for
    /// the tail rules): what the integration describes its span for.
    #[cfg_attr(not(any(feature = "axum", feature = "reqwest")), allow(dead_code))]
    #[inline]
    pub(crate) fn recorded(&self) -> Option<(TraceId, SpanId)> {
        self.recorded
    }

    /// The ids of the span when it is head-sampled: what the operation's
    /// metrics link to. Not those of a span held for the tail rules, which
    /// may never be exported.
    #[inline]
    pub(crate) fn exemplar(&self) -> Exemplar {
        self.recorded.filter(|_| self.sampled)
    }

    /// How long the operation has run so far.
    #[inline]
    pub(crate) fn elapsed(&self) -> Duration {
        self.clock.stop().0
    }

    /// Stops the clock: the operation's duration, and the instant its span,
    /// when recorded, ends.
    #[inline]
    pub(crate) fn stop(&self) -> Stopped {
        let (elapsed, end) = self.clock.stop();
        Stopped { elapsed, end }
    }

    /// Marks the span failed with `error_type` (a no-op for a span that is
    /// not recorded).
    pub(crate) fn fail(&self, error_type: &str, message: Option<String>) {
        if let Some(span) = &self.span {
            set_error(span, error_type, message);
        }
    }

    /// Marks the span failed by `failure`, an error the operation returned,
    /// with its `exception` event (see [`failure::report`]). Reported
    /// without a span of its own too, for the error tracker.
    pub(crate) fn fail_with(&self, failure: &failure::Failure<'_>) {
        failure::report(self.span_or_none(), failure);
    }

    /// Marks the span failed by `panic`, unwinding through it (see
    /// [`failure::unwound`]).
    pub(crate) fn fail_unwound(&self, panic: Option<&panic::Captured>) {
        let Some(span) = &self.span else { return };
        match panic {
            Some(captured) => failure::unwound(span, &captured.failure()),
            // Without the hook (not installed, or replaced without being
            // chained), a panic with no message.
            None => failure::unwound(span, &failure::Failure::error(panic::PANIC_TYPE, None)),
        }
    }

    /// Marks the span failed by the panic unwinding through it now: the
    /// one the panic hook captured last on this thread. Call it while the
    /// panic unwinds, on the panicking thread.
    #[cold]
    pub(crate) fn fail_panicking(&self) {
        if self.span.is_some() {
            self.fail_unwound(panic::latest().as_deref());
        }
    }

    /// Closes the span, at the end `stopped` read when it is recorded.
    #[inline]
    pub(crate) fn close(&mut self, stopped: Stopped) {
        let Some(span) = self.span.take() else { return };
        match stopped.end {
            Some(end) => with_end(end, || drop(span)),
            None => drop(span),
        }
    }
}

/// Counts one operation in `counter`, linking the recorded span.
#[inline]
pub(crate) fn count(counter: &CounterHandle, exemplar: Exemplar) {
    match exemplar {
        Some((trace_id, span_id)) => counter.inc_with_span(trace_id, span_id),
        None => counter.inc(),
    }
}

/// Observes an operation's `duration` in `histogram`, linking the recorded
/// span.
#[inline]
pub(crate) fn observe(histogram: &HistogramHandle, duration: Duration, exemplar: Exemplar) {
    let seconds = duration.as_secs_f64();
    match exemplar {
        Some((trace_id, span_id)) => histogram.observe_with_span(seconds, trace_id, span_id),
        None => histogram.observe(seconds),
    }
}
