//! The one word every instrumented call reads first: is o11y on, and which
//! parts. A foundation: set by `init`, read by every layer above.

use std::sync::atomic::{AtomicU8, Ordering};

/// o11y is initialised and instrumentation is live.
pub const ENABLED: u8 = 1;
/// Function metrics are recorded.
pub const METRICS: u8 = 1 << 1;
/// Spans may be recorded (some calls are still sampled out).
pub const TRACING: u8 = 1 << 2;

static FLAGS: AtomicU8 = AtomicU8::new(0);

/// The current flags; 0 until `init()`.
#[inline(always)]
pub fn flags() -> u8 {
    FLAGS.load(Ordering::Relaxed)
}

/// Set by `init()` (and cleared when its guard is dropped).
pub fn set_flags(flags: u8) {
    FLAGS.store(flags, Ordering::Relaxed);
}
