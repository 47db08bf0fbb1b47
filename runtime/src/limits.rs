//! The OpenTelemetry attribute limits in force (`[limits]`: the attributes,
//! events and links a span keeps, and the longest text value), as words
//! that `init()` sets and every recording reads, and where a text is cut
//! to keep to the length at a character boundary.
//!
//! Atomics rather than a derived setting: a span reads its attribute limit
//! at every attribute it sets, where a lock would cost more than the rest.

use std::sync::atomic::{AtomicUsize, Ordering};

/// OpenTelemetry's default span limits, before `init()`.
const DEFAULT_SPAN_LIMIT: usize = 128;

static SPAN_ATTRIBUTES: AtomicUsize = AtomicUsize::new(DEFAULT_SPAN_LIMIT);
static SPAN_EVENTS: AtomicUsize = AtomicUsize::new(DEFAULT_SPAN_LIMIT);
static SPAN_LINKS: AtomicUsize = AtomicUsize::new(DEFAULT_SPAN_LIMIT);
/// `usize::MAX`: no limit.
static VALUE_LENGTH: AtomicUsize = AtomicUsize::new(usize::MAX);

/// The limits a process runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    pub(crate) span_attributes: usize,
    pub(crate) span_events: usize,
    pub(crate) span_links: usize,
    /// In characters; `None`: no limit.
    pub(crate) value_length: Option<usize>,
}

/// Makes `limits` the limits in force (called by `init()`).
pub(crate) fn set(limits: Limits) {
    SPAN_ATTRIBUTES.store(limits.span_attributes, Ordering::Relaxed);
    SPAN_EVENTS.store(limits.span_events, Ordering::Relaxed);
    SPAN_LINKS.store(limits.span_links, Ordering::Relaxed);
    VALUE_LENGTH.store(limits.value_length.unwrap_or(usize::MAX), Ordering::Relaxed);
}

/// The attributes a span keeps.
#[inline]
pub(crate) fn span_attributes() -> usize {
    SPAN_ATTRIBUTES.load(Ordering::Relaxed)
}

/// The events a span keeps.
#[inline]
pub(crate) fn span_events() -> usize {
    SPAN_EVENTS.load(Ordering::Relaxed)
}

/// The links a span keeps.
#[inline]
pub(crate) fn span_links() -> usize {
    SPAN_LINKS.load(Ordering::Relaxed)
}

/// The most characters of a text value; `None`: no limit.
#[inline]
pub(crate) fn value_length() -> Option<usize> {
    match VALUE_LENGTH.load(Ordering::Relaxed) {
        usize::MAX => None,
        length => Some(length),
    }
}

/// Where `text` is cut to keep `max_chars` characters: `None` when it has
/// no more than that. A text of at most `max_chars` bytes is never cut,
/// without counting its characters.
#[inline]
pub(crate) fn cut_at(text: &str, max_chars: usize) -> Option<usize> {
    if text.len() <= max_chars {
        return None;
    }
    text.char_indices().nth(max_chars).map(|(at, _)| at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_cut_at_a_character_boundary() {
        assert_eq!(cut_at("abcdef", 4), Some(4));
        // Four characters, eight bytes: a byte cut at 4 would split `é`.
        assert_eq!(cut_at("héé€", 4), None, "four characters fit");
        assert_eq!(cut_at("héé€", 2), Some(3));
        assert_eq!(cut_at("ok", 2), None);
        assert_eq!(cut_at("ok", 0), Some(0));
    }
}
