//! A panic's backtrace, as the panic hook captured it (the standard
//! library's text: `N: function` lines, a function inlined there on a line
//! of its own without the number, each followed by `at file:line:col` when
//! known), as Sentry's stack trace: frames oldest first, without the
//! frames of the panic machinery above the code that panicked, and those
//! of the standard library and o11y marked as not the application's.
//! Parsing the text keeps the `backtrace` crate (and its DWARF readers)
//! out of the build: the standard library has resolved the symbols already.

use ::sentry::protocol::{Frame, Stacktrace};

/// Frames of the panic's way from the code that panicked to the hook:
/// everything up to the last of them (the capture, the hook, whose inlined
/// frames may have no path) is not where the panic happened.
const PANIC_MACHINERY: &[&str] = &[
    "std::panicking::",
    "core::panicking::",
    "rust_begin_unwind",
    "__rustc::rust_begin_unwind",
    "std::sys::backtrace::__rust_end_short_backtrace",
];

/// The standard library's frames: right after the machinery, the call that
/// panicked for the application (`Option::unwrap`, `Result::expect`).
const STANDARD_LIBRARY: &[&str] = &[
    "std::", "core::", "alloc::", "<std::", "<core::", "<alloc::",
];

/// Frames that are not the application's own code.
const NOT_IN_APP: &[&str] = &[
    "std::",
    "core::",
    "alloc::",
    "<std::",
    "<core::",
    "<alloc::",
    "o11y_runtime::",
    "<o11y_runtime::",
    "tokio::",
    "<tokio::",
    "__rust",
    "_start",
    "__libc_start",
];

/// The stack trace of `backtrace`, a `std::backtrace::Backtrace`'s text;
/// `None` when it holds no frame.
pub(crate) fn parse(backtrace: &str) -> Option<Stacktrace> {
    let mut frames: Vec<Frame> = Vec::new();
    for line in backtrace.lines().map(str::trim) {
        if line.is_empty() {
            continue;
        }
        if let Some(location) = line.strip_prefix("at ") {
            if let Some(frame) = frames.last_mut() {
                locate(frame, location);
            }
        } else if let Some((index, function)) = line.split_once(": ")
            && !index.is_empty()
            && index.bytes().all(|b| b.is_ascii_digit())
        {
            frames.push(frame(function));
        } else if !frames.is_empty() {
            // A function inlined into the frame above: its own line,
            // without a number.
            frames.push(frame(line));
        }
    }
    let mut machinery = 0;
    for (index, frame) in frames.iter().enumerate() {
        let function = frame.function.as_deref().unwrap_or_default();
        if starts_with_any(function, PANIC_MACHINERY)
            || (machinery > 0 && starts_with_any(function, STANDARD_LIBRARY))
        {
            machinery = index + 1;
        } else if machinery > 0 {
            break;
        }
    }
    // A backtrace of nothing but machinery is kept whole: better than none.
    if machinery < frames.len() {
        frames.drain(..machinery);
    }
    // Innermost first in the text, oldest first for Sentry.
    Stacktrace::from_frames_reversed(frames)
}

fn frame(function: &str) -> Frame {
    let function = function.trim();
    let known = function != "<unknown>";
    Frame {
        function: known.then(|| function.to_owned()),
        in_app: (!known || starts_with_any(function, NOT_IN_APP)).then_some(false),
        ..Frame::default()
    }
}

/// `file:line:column`, `file:line` or `file`.
fn locate(frame: &mut Frame, location: &str) {
    let mut parts = location.rsplitn(3, ':');
    let numbers: Vec<&str> = parts.by_ref().take(2).collect();
    let rest = parts.next();
    let (path, line, column) = match (numbers.as_slice(), rest) {
        ([column, line], Some(path))
            if line.parse::<u64>().is_ok() && column.parse::<u64>().is_ok() =>
        {
            (path, line.parse().ok(), column.parse().ok())
        }
        _ => match location.rsplit_once(':') {
            Some((path, line)) if line.parse::<u64>().is_ok() => (path, line.parse().ok(), None),
            _ => (location, None, None),
        },
    };
    frame.abs_path = Some(path.to_owned());
    frame.filename = Some(path.trim_start_matches("./").to_owned());
    frame.lineno = line;
    frame.colno = column;
}

fn starts_with_any(function: &str, prefixes: &[&str]) -> bool {
    prefixes.iter().any(|prefix| function.starts_with(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As the panic hook captures it: the capture, the hook, the panic's
    /// way through the standard library, then the application.
    const CAPTURED: &str = "   0: o11y_runtime::lifecycle::panic::backtrace
             at ./runtime/src/lifecycle/panic.rs:170:32
      on_panic
             at ./runtime/src/lifecycle/panic.rs:123:21
   1: o11y_runtime::lifecycle::panic::install::{{closure}}
             at ./runtime/src/lifecycle/panic.rs:103:13
   2: <alloc::boxed::Box<F,A> as core::ops::function::Fn<Args>>::call
             at /rustc/abc/library/alloc/src/boxed.rs:2007:9
   3: std::panicking::rust_panic_with_hook
             at /rustc/abc/library/std/src/panicking.rs:841:13
   4: __rustc::rust_begin_unwind
             at /rustc/abc/library/std/src/panicking.rs:697:5
   5: core::panicking::panic_fmt
             at /rustc/abc/library/core/src/panicking.rs:75:14
      core::option::unwrap_failed
             at /rustc/abc/library/core/src/option.rs:2015:5
   6: shop::reserve_stock
             at ./src/shop.rs:42:9
   7: shop::checkout
             at ./src/shop.rs:50
   8: std::rt::lang_start_internal
   9: <unknown>
";

    #[test]
    fn the_application_frames_oldest_first() {
        let frames = parse(CAPTURED).expect("frames").frames;
        let functions: Vec<Option<&str>> = frames
            .iter()
            .map(|frame| frame.function.as_deref())
            .collect();
        assert_eq!(
            functions,
            [
                None,
                Some("std::rt::lang_start_internal"),
                Some("shop::checkout"),
                Some("shop::reserve_stock"),
            ]
        );
        let reserve = &frames[3];
        assert_eq!(reserve.filename.as_deref(), Some("src/shop.rs"));
        assert_eq!(reserve.abs_path.as_deref(), Some("./src/shop.rs"));
        assert_eq!((reserve.lineno, reserve.colno), (Some(42), Some(9)));
        assert_eq!(reserve.in_app, None, "Sentry decides");
        assert_eq!((frames[2].lineno, frames[2].colno), (Some(50), None));
        assert_eq!(frames[1].in_app, Some(false));
        assert_eq!(frames[0].in_app, Some(false));
    }

    #[test]
    fn text_without_frames_is_no_stacktrace() {
        assert!(parse("").is_none());
        assert!(parse("disabled backtrace").is_none());
        let only_machinery = parse("   0: core::panicking::panic_fmt\n").expect("kept");
        assert_eq!(only_machinery.frames.len(), 1);
    }
}
