//! Which callsites' code locations are worth writing: a user's, not
//! o11y's own. The access-log line, task lifecycle lines, N+1 warnings and
//! the spans of the HTTP layer are emitted from o11y's source; their
//! `file` and `line` would name a file of this crate on every request
//! (the bytes of a long registry path in each log line and span) and tell
//! the reader nothing. Their targets, `o11y` and `o11y::…`, say where
//! they come from.

use tracing_core::Metadata;

/// The source file and line of `metadata`'s callsite; `(None, None)` for
/// o11y's own callsites.
pub(crate) fn code_location<'a>(metadata: &Metadata<'a>) -> (Option<&'a str>, Option<u32>) {
    if is_own(metadata.target()) {
        (None, None)
    } else {
        (metadata.file(), metadata.line())
    }
}

fn is_own(target: &str) -> bool {
    target
        .strip_prefix("o11y")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
}

#[cfg(test)]
mod tests {
    use super::is_own;

    #[test]
    fn own_targets_are_o11y_and_its_modules() {
        assert!(is_own("o11y"));
        assert!(is_own("o11y::http"));
        assert!(!is_own("o11y_shop::orders"), "a user crate named alike");
        assert!(!is_own("shop"));
    }
}
