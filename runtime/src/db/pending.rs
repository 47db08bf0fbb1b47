//! Queries that ran on another thread than their scope's: sqlx's SQLite
//! driver runs each statement on a worker thread, which enters the span
//! that was current in the caller (but knows nothing of the caller's
//! thread-local scope). Such a query waits in that span's extensions until
//! the span is entered again, closes, or its scope ends, on the caller's
//! side, where the right scope is current; it is counted there.
//!
//! A global count of waiting queries keeps all of this to one relaxed load
//! when none is waiting.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tracing_subscriber::Registry;
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use super::detector::QueryTime;
use super::statement::Statement;

static WAITING: AtomicUsize = AtomicUsize::new(0);

/// Queries waiting on a span, in its extensions.
#[derive(Default)]
struct Waiting(Vec<(Arc<Statement>, QueryTime)>);

/// Queries kept waiting on one span: past this, more are not counted (a
/// long-lived span that is never entered again must not grow).
const MAX_WAITING_PER_SPAN: usize = 256;

/// Leaves a query on `span` for its scope to pick up.
#[cfg_attr(not(feature = "sqlx"), allow(dead_code))]
pub(crate) fn park<S>(span: &SpanRef<'_, S>, statement: Arc<Statement>, time: QueryTime)
where
    S: for<'a> LookupSpan<'a>,
{
    let mut extensions = span.extensions_mut();
    match extensions.get_mut::<Waiting>() {
        Some(waiting) if waiting.0.len() >= MAX_WAITING_PER_SPAN => return,
        Some(waiting) => waiting.0.push((statement, time)),
        None => extensions.insert(Waiting(vec![(statement, time)])),
    }
    WAITING.fetch_add(1, Ordering::Relaxed);
}

/// Whether any query is waiting, anywhere.
#[cfg_attr(not(feature = "sqlx"), allow(dead_code))]
#[inline]
pub(crate) fn any() -> bool {
    WAITING.load(Ordering::Relaxed) != 0
}

/// Counts the queries waiting on `span` in the current scope.
#[cfg_attr(not(feature = "sqlx"), allow(dead_code))]
pub(crate) fn deliver<S>(span: &SpanRef<'_, S>)
where
    S: for<'a> LookupSpan<'a>,
{
    if WAITING.load(Ordering::Relaxed) == 0 {
        return;
    }
    let taken = span.extensions_mut().remove::<Waiting>();
    if let Some(Waiting(queries)) = taken {
        count(queries);
    }
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
    span.with_subscriber(|(id, dispatch)| {
        if let Some(span) = dispatch
            .downcast_ref::<Registry>()
            .and_then(|registry| registry.span(id))
        {
            deliver(&span);
        }
    });
}

fn count(queries: Vec<(Arc<Statement>, QueryTime)>) {
    WAITING.fetch_sub(queries.len(), Ordering::Relaxed);
    for (statement, time) in queries {
        super::scope::record(&statement, time, None);
    }
}
