//! Reporting a failure of an operation: an error it returned (`#[observe(err)]`,
//! a task's `Err`) or a panic. Each failure goes through [`report`] once,
//! where it happened: the `err` of the call that returned it, the task run
//! that failed, the panic hook for a panic (in the span current when it
//! happened). [`report`] puts the OpenTelemetry `exception` event on the
//! failure's span, with `error.type` and status error, and answers that
//! span's ids, and hands the failure to the error tracker (Sentry, feature
//! `sentry`, when a DSN is set) with where it happened: the span's ids,
//! the request id, the span's name. An operation that made no span of its
//! own (not sampled, tracing off) reports on `Span::none()`: the tracker
//! still gets the failure, in the current span, named after the request
//! it happened in (else after the span). A panic then records
//! itself on every span it unwinds through with [`unwound`], which is not
//! a new failure.

use opentelemetry::trace::{SpanId, TraceId};

use crate::subscriber::current::record_failure;
use crate::trace::exception::Exception;

/// One failure, as reported on a span.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Failure<'a> {
    /// What the `exception` event says.
    pub(crate) exception: Exception<'a>,
    /// The span that has this failure's `exception` event already: the one
    /// a panic happened in, where the panic hook recorded it. A span the
    /// panic then unwinds through gets an event of its own; that one does
    /// not get a second.
    pub(crate) recorded_in: Option<SpanId>,
}

impl<'a> Failure<'a> {
    /// An error returned: `error_type` (its type name), with its `Display`
    /// when it has one.
    pub(crate) fn error(error_type: &'a str, message: Option<&'a dyn std::fmt::Display>) -> Self {
        Failure {
            exception: Exception {
                error_type,
                message,
                stacktrace: None,
            },
            recorded_in: None,
        }
    }
}

/// Reports `failure` where it happened, on `span`: the `exception` event,
/// `error.type`, status error (a message set earlier is kept). Returns the
/// span's trace and span ids, recorded or not; `None` when o11y keeps no
/// state for the span.
pub(crate) fn report(span: &tracing::Span, failure: &Failure<'_>) -> Option<(TraceId, SpanId)> {
    let ids = record_failure(span, &failure.exception, failure.recorded_in);
    #[cfg(feature = "sentry")]
    if crate::sentry::is_active() {
        to_sentry(span, failure);
    }
    ids
}

/// Sends `failure` to Sentry, with where it happened.
#[cfg(feature = "sentry")]
#[cold]
fn to_sentry(span: &tracing::Span, failure: &Failure<'_>) {
    let scope = crate::subscriber::current::failure_scope(span);
    let origin = crate::sentry::Origin {
        ids: scope.ids,
        request_id: scope.request_id,
        // As Sentry names events: by the request they happened in.
        transaction: scope.request.or_else(|| scope.name.clone()),
        span_name: scope.name,
    };
    let panicked = failure.exception.error_type == super::panic::PANIC_TYPE;
    crate::sentry::capture(&failure.exception, panicked, &origin);
}

/// Records on `span` a panic [reported](report) already, which unwinds
/// through it: its own `exception` event (unless it is the span the panic
/// happened in), `error.type`, status error.
pub(crate) fn unwound(span: &tracing::Span, failure: &Failure<'_>) {
    record_failure(span, &failure.exception, failure.recorded_in);
}
