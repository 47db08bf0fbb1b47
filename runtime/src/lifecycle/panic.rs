//! Panics in the trace. `init()` installs a panic hook, chained in front of
//! the hook it finds (the standard one, a test harness's, the
//! application's), which still runs for every panic: its text on stderr,
//! and `cargo test`'s capture of it, are unchanged. o11y's part, while o11y
//! is on:
//!
//! - it captures the panic's message and, when `errors.backtrace` says so,
//!   its backtrace, for the panicking thread ([`latest`]);
//! - it writes ONE error log line inside the current span (target
//!   `o11y::panic`, so the line carries `trace_id`, `span_id` and, inside a
//!   request, `request_id`), with `exception.type = "panic"`,
//!   `exception.message`, `exception.stacktrace`, `code.file.path`,
//!   `code.line.number`, `code.column.number` and `thread.name`;
//! - it records the `exception` event on that span.
//!
//! The guards the panic unwinds through afterwards (an observed call, the
//! HTTP layer's catch, a task run) put the captured exception on their own
//! spans ([`super::Operation::fail_panicking`], [`caught`]).
//!
//! Both texts are kept on stderr and in the log, rather than the standard
//! hook silenced: a structured line goes to the log pipeline, while a
//! developer running the program or its tests reads stderr, and a hook the
//! application set before `init()` may do more than print.

use std::any::Any;
use std::backtrace::{Backtrace, BacktraceStatus};
use std::cell::Cell;
use std::panic::{Location, PanicHookInfo};
use std::sync::Arc;
use std::sync::Once;
use std::sync::atomic::{AtomicU8, Ordering};

use opentelemetry::trace::{SpanId, TraceId};

use super::failure::{self, Failure};
use crate::config::BacktraceMode;
use crate::export_thread::is_export_thread;
use crate::flags;
use crate::subscriber::without_waiting;
use crate::trace::exception::{Exception, PANIC_TARGET};

/// `exception.type` and `error.type` of a panic.
pub(crate) const PANIC_TYPE: &str = "panic";

/// The message of a panic whose payload is not a string (`panic_any`), as
/// the standard hook writes it.
const OPAQUE_PAYLOAD: &str = "Box<dyn Any>";

/// What the hook captured of a panic.
#[derive(Debug)]
pub(crate) struct Captured {
    message: String,
    stacktrace: Option<String>,
    /// The ids of the span the panic happened in, where the hook recorded
    /// its `exception` event; `None` outside any span o11y knows.
    in_span: Option<(TraceId, SpanId)>,
}

impl Captured {
    /// The panic's message.
    pub(crate) fn message(&self) -> &str {
        &self.message
    }

    /// The panic as a failure to report on a span it unwinds through.
    pub(crate) fn failure(&self) -> Failure<'_> {
        Failure {
            exception: Exception {
                error_type: PANIC_TYPE,
                message: Some(&self.message),
                stacktrace: self.stacktrace.as_deref(),
            },
            recorded_in: self.in_span.map(|(_, span_id)| span_id),
        }
    }

    /// A panic the hook did not see (it was not installed, or was replaced
    /// without being chained): only its payload's message is known.
    #[cfg_attr(not(feature = "axum"), allow(dead_code))]
    fn of_payload(message: &str) -> Self {
        Captured {
            message: message.to_owned(),
            stacktrace: None,
            in_span: None,
        }
    }
}

thread_local! {
    /// The latest panic the hook captured on this thread.
    static LATEST: Cell<Option<Arc<Captured>>> = const { Cell::new(None) };
}

/// [`BacktraceMode`], as the hook reads it.
static MODE: AtomicU8 = AtomicU8::new(0);
static INSTALLED: Once = Once::new();

/// Installs the hook (once per process, in front of the hook in place
/// then), capturing backtraces as `mode` says; a later call only changes
/// the mode.
pub(crate) fn install(mode: BacktraceMode) {
    MODE.store(mode as u8, Ordering::Relaxed);
    INSTALLED.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            on_panic(info);
            previous(info);
        }));
    });
}

fn mode() -> BacktraceMode {
    match MODE.load(Ordering::Relaxed) {
        m if m == BacktraceMode::On as u8 => BacktraceMode::On,
        m if m == BacktraceMode::Off as u8 => BacktraceMode::Off,
        _ => BacktraceMode::Auto,
    }
}

/// o11y's part of the hook; see the module documentation.
fn on_panic(info: &PanicHookInfo<'_>) {
    if flags::flags() == 0 || is_export_thread() {
        return;
    }
    let message = payload_message(info.payload());
    let stacktrace = backtrace(mode());
    // The panic may have happened while this thread held the lock of the
    // span it is in (a field's `Debug` that panicked): never wait for it.
    let in_span = without_waiting(|| {
        log_line(message, info.location(), stacktrace.as_deref());
        let failure = Failure {
            exception: Exception {
                error_type: PANIC_TYPE,
                message: Some(&message),
                stacktrace: stacktrace.as_deref(),
            },
            recorded_in: None,
        };
        failure::report(&tracing::Span::current(), &failure)
    });
    let captured = Arc::new(Captured {
        message: message.to_owned(),
        stacktrace,
        in_span,
    });
    // A thread that is exiting has no thread-locals left: nothing unwinds
    // through a guard there that would read it.
    let _ = LATEST.try_with(|latest| latest.set(Some(captured)));
}

fn log_line(message: &str, location: Option<&Location<'_>>, stacktrace: Option<&str>) {
    let thread = std::thread::current();
    tracing::event!(
        target: PANIC_TARGET,
        tracing::Level::ERROR,
        exception.message = message,
        exception.type = PANIC_TYPE,
        exception.stacktrace = stacktrace,
        code.file.path = location.map(Location::file),
        code.line.number = location.map(Location::line),
        code.column.number = location.map(Location::column),
        thread.name = thread.name(),
        "panicked"
    );
}

/// The backtrace of the panicking thread, when `mode` captures one.
fn backtrace(mode: BacktraceMode) -> Option<String> {
    let backtrace = match mode {
        BacktraceMode::Auto => Backtrace::capture(),
        BacktraceMode::On => Backtrace::force_capture(),
        BacktraceMode::Off => return None,
    };
    (backtrace.status() == BacktraceStatus::Captured).then(|| backtrace.to_string())
}

/// The latest panic the hook captured on this thread: while a panic
/// unwinds, that panic's.
pub(crate) fn latest() -> Option<Arc<Captured>> {
    LATEST
        .try_with(|latest| {
            let captured = latest.take();
            latest.set(captured.clone());
            captured
        })
        .ok()
        .flatten()
}

/// The panic whose `payload` a `catch_unwind` caught, taken from this
/// thread when the hook captured it (its message is the payload's), so
/// that no later request mistakes it for its own; else what the payload
/// says.
#[cfg_attr(not(feature = "axum"), allow(dead_code))]
pub(crate) fn caught(payload: &(dyn Any + Send)) -> Arc<Captured> {
    let message = payload_message(payload);
    take_if(|captured| captured.message == message)
        .unwrap_or_else(|| Arc::new(Captured::of_payload(message)))
}

/// Takes this thread's latest captured panic if it happened in trace
/// `trace_id`: for a request answered 500 by a `CatchPanic` inside the
/// HTTP layer, which saw no panic itself.
#[cfg_attr(not(feature = "axum"), allow(dead_code))]
pub(crate) fn take_in_trace(trace_id: TraceId) -> Option<Arc<Captured>> {
    take_if(|captured| captured.in_span.is_some_and(|(trace, _)| trace == trace_id))
}

#[cfg_attr(not(feature = "axum"), allow(dead_code))]
fn take_if(wanted: impl FnOnce(&Captured) -> bool) -> Option<Arc<Captured>> {
    LATEST
        .try_with(|latest| {
            let captured = latest.take()?;
            if wanted(&captured) {
                Some(captured)
            } else {
                latest.set(Some(captured));
                None
            }
        })
        .ok()
        .flatten()
}

/// A panic's message, as the standard hook writes it.
fn payload_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(message) = payload.downcast_ref::<&'static str>() {
        message
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message
    } else {
        OPAQUE_PAYLOAD
    }
}

#[cfg(test)]
mod tests {
    use std::panic::catch_unwind;
    use std::sync::Mutex;

    use super::*;

    /// Panic messages the hook found in place saw, by this test's marker.
    static SEEN_BY_PREVIOUS: Mutex<Vec<String>> = Mutex::new(Vec::new());
    const MARKER: &str = "o11y-panic-hook-chaining";

    #[test]
    fn the_hook_in_place_still_sees_every_panic_once() {
        // The hook an application set before init(), itself chained to
        // the one before it so that other tests' panics print as usual.
        let before = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let message = payload_message(info.payload());
            if message.contains(MARKER) {
                SEEN_BY_PREVIOUS
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(message.to_owned());
            }
            before(info);
        }));
        install(BacktraceMode::Off);
        // A second init() installs nothing more: no hook runs twice.
        install(BacktraceMode::Auto);
        assert_eq!(mode(), BacktraceMode::Auto);
        for n in 0..2 {
            let caught = catch_unwind(|| panic!("{MARKER} {n}"));
            assert!(caught.is_err());
        }
        let seen = SEEN_BY_PREVIOUS.lock().unwrap_or_else(|e| e.into_inner());
        assert_eq!(
            *seen,
            [format!("{MARKER} 0"), format!("{MARKER} 1")],
            "each panic reached the previous hook exactly once"
        );
    }

    #[test]
    fn a_caught_payload_is_matched_with_the_capture() {
        let captured = Arc::new(Captured {
            message: "stock went negative".into(),
            stacktrace: Some("0: shop::reserve".into()),
            in_span: Some((TraceId::from(7), SpanId::from(8))),
        });
        LATEST.with(|latest| latest.set(Some(captured.clone())));
        let other: Box<dyn Any + Send> = Box::new("another panic");
        let unseen = caught(&*other);
        assert_eq!(unseen.message(), "another panic");
        assert_eq!(unseen.failure().exception.stacktrace, None);
        let opaque: Box<dyn Any + Send> = Box::new(42_u8);
        assert_eq!(caught(&*opaque).message(), OPAQUE_PAYLOAD);

        assert_eq!(
            captured.failure().recorded_in,
            Some(SpanId::from(8)),
            "a span it unwinds through learns where the event is already"
        );
        assert!(take_in_trace(TraceId::from(9)).is_none(), "another trace");
        assert!(latest().is_some(), "left in place");
        assert!(take_in_trace(TraceId::from(7)).is_some());
        assert!(latest().is_none(), "taken");

        LATEST.with(|latest| latest.set(Some(captured.clone())));
        let same: Box<dyn Any + Send> = Box::new(String::from("stock went negative"));
        assert!(Arc::ptr_eq(&caught(&*same), &captured));
        assert!(latest().is_none(), "a caught panic is taken");
    }
}
