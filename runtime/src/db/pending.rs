//! Queries that ran on another thread than their scope's: sqlx's SQLite
//! driver runs each statement on a worker thread, which enters the span
//! that was current in the caller (but knows nothing of the caller's
//! thread-local scope). Such a query waits in that span's o11y state until
//! the span is entered again, closes, or its scope ends, on the caller's
//! side, where the right scope is current; it is counted there.
//!
//! A global count of waiting queries keeps all of this to one relaxed load
//! when none is waiting.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::detector::QueryTime;
use super::statement::Statement;

static WAITING: AtomicUsize = AtomicUsize::new(0);

/// Queries waiting on a span, in the part of its o11y state that is the
/// db bridge's.
pub(crate) type Waiting = Vec<(Arc<Statement>, QueryTime)>;

/// Queries kept waiting on one span: past this, more are not counted (a
/// long-lived span that is never entered again must not grow).
const MAX_WAITING_PER_SPAN: usize = 256;

/// Leaves a query on a span for its scope to pick up.
#[cfg_attr(not(feature = "sqlx"), allow(dead_code))]
pub(crate) fn park(waiting: &mut Waiting, statement: Arc<Statement>, time: QueryTime) {
    if waiting.len() >= MAX_WAITING_PER_SPAN {
        return;
    }
    waiting.push((statement, time));
    WAITING.fetch_add(1, Ordering::Relaxed);
}

/// Whether any query is waiting, anywhere.
#[cfg_attr(not(feature = "sqlx"), allow(dead_code))]
#[inline]
pub(crate) fn any() -> bool {
    WAITING.load(Ordering::Relaxed) != 0
}

/// Counts the queries waiting on a span in the current scope.
#[cfg_attr(not(feature = "sqlx"), allow(dead_code))]
pub(crate) fn deliver(waiting: &mut Waiting) {
    if WAITING.load(Ordering::Relaxed) == 0 || waiting.is_empty() {
        return;
    }
    count(std::mem::take(waiting));
}

/// Counts the queries waiting on a scope's own span in the current scope
/// (the scope's, which is current when this is called).
#[inline(always)]
pub(crate) fn deliver_own(span: Option<&tracing::Span>) {
    if WAITING.load(Ordering::Relaxed) != 0
        && let Some(span) = span
    {
        deliver_own_slow(span);
    }
}

#[cold]
#[inline(never)]
fn deliver_own_slow(span: &tracing::Span) {
    if let Some(access) = super::hooks::access() {
        (access.with_waiting)(span, &mut deliver);
    }
}

fn count(queries: Waiting) {
    WAITING.fetch_sub(queries.len(), Ordering::Relaxed);
    for (statement, time) in queries {
        super::scope::record(&statement, time, None);
    }
}
