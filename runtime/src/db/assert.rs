//! The test helpers: run code in a scope of its own and fail, with a
//! readable report, when it (or any scope inside it) repeats a statement
//! `db.n_plus_one.threshold` times or more — so a test suite catches an N+1
//! as it appears, as django-zeal does for Django.

use std::future::Future;

use super::detector::Report;
use super::scope::Scope;

const SCOPE: &str = "assert_no_n_plus_one";

/// Runs `f` and panics if an N+1 was detected while it ran (in it, or in
/// any observed function or scope inside it); returns `f`'s result
/// otherwise. The threshold and the allowlist of the configuration apply;
/// `db.n_plus_one.min_duration` does not (tests run against fast, local
/// databases) and neither does `mode = off`.
///
/// Queries are seen as they are everywhere else: reported with
/// [`record_query`](super::record_query), or through sqlx's events (feature
/// `sqlx`), which needs o11y's subscriber (`o11y::init()`; any profile,
/// `test` included). The panic message lists each repeated statement with
/// its count and scope:
///
/// ```text
/// N+1 queries detected: 1 N+1 query pattern(s) detected:
///   - 10 × `SELECT * FROM items WHERE order_id = ?` in list_orders (3.1 ms in total)
/// ```
///
/// ```
/// use std::time::Duration;
/// use o11y_runtime::db::{assert_no_n_plus_one, record_query};
///
/// // One query for all orders: passes.
/// assert_no_n_plus_one(|| {
///     record_query("sqlite", "SELECT * FROM items WHERE order_id IN (1, 2, 3)", Duration::ZERO, Some(9));
/// });
///
/// // One query per order: fails.
/// let failed = std::panic::catch_unwind(|| {
///     assert_no_n_plus_one(|| {
///         for id in 1..=5 {
///             let sql = format!("SELECT * FROM items WHERE order_id = {id}");
///             record_query("sqlite", &sql, Duration::ZERO, Some(3));
///         }
///     })
/// });
/// assert!(failed.is_err());
/// ```
#[track_caller]
pub fn assert_no_n_plus_one<R>(f: impl FnOnce() -> R) -> R {
    let (mut scope, span) = carrier_scope();
    let result = scope.in_scope(|| span.in_scope(f));
    check(scope.finish());
    result
}

/// The async form of [`assert_no_n_plus_one`]: polls `future` inside a
/// scope of its own (across `.await`s and threads), then panics if an N+1
/// was detected while it ran.
///
/// ```
/// # async fn list_orders() -> usize { 3 }
/// # async fn test() {
/// use o11y_runtime::db::assert_no_n_plus_one_async;
///
/// let orders = assert_no_n_plus_one_async(list_orders()).await;
/// # }
/// ```
pub async fn assert_no_n_plus_one_async<F: Future>(future: F) -> F::Output {
    let (mut scope, span) = carrier_scope();
    let mut future = std::pin::pin!(future);
    let output =
        std::future::poll_fn(|cx| scope.in_scope(|| span.in_scope(|| future.as_mut().poll(cx))))
            .await;
    check(scope.finish());
    output
}

/// A strict scope, and a span of its own entered inside it: sqlx runs
/// SQLite statements on a worker thread that enters the caller's span,
/// through which their counts find their way back to this scope. The span
/// is at ERROR level so that usual filters keep it (o11y's filter always
/// does).
fn carrier_scope() -> (Scope, tracing::Span) {
    let span = tracing::span!(
        target: "o11y::db::scope",
        tracing::Level::ERROR,
        "assert_no_n_plus_one"
    );
    (Scope::strict(SCOPE).with_span(span.clone()), span)
}

#[track_caller]
fn check(report: Report) {
    if !report.is_empty() {
        panic!("N+1 queries detected: {report}");
    }
}
