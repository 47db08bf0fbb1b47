//! N+1 scopes: which scope owns a query. Each thread has one current scope
//! (a thread-local [`Frame`]); a scope is made current for the duration of
//! a sync body and for each poll of a future, and the previous one is
//! restored after, so scopes nest and follow async code across `.await`
//! and thread migration (the frame moves with its future). The innermost
//! current scope owns a query.
//!
//! A scope's counts are allocated by its first query: an observed call
//! that runs none pays two thread-local swaps.
//!
//! Scopes come from `#[observe]` calls (through `CallGuard`), from
//! [`Scope`] (the HTTP layer's requests, tasks, your own units of work),
//! and from [`assert_no_n_plus_one`](super::assert_no_n_plus_one).

use std::borrow::Cow;
use std::cell::Cell;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::detector::{self, Report, ScopeState};
use super::statement::Statement;

/// One scope's place in the thread-local: whether a scope is current at
/// all, and its counts once it has seen a query.
#[derive(Debug, Default)]
pub(crate) struct Frame {
    active: bool,
    state: Option<Box<ScopeState>>,
}

impl Frame {
    /// A scope that has seen nothing yet.
    #[inline]
    pub(crate) const fn fresh() -> Frame {
        Frame {
            active: true,
            state: None,
        }
    }

    fn strict() -> Frame {
        Frame {
            active: true,
            state: Some(Box::new(ScopeState::strict())),
        }
    }
}

thread_local! {
    static CURRENT: Cell<Frame> = const {
        Cell::new(Frame {
            active: false,
            state: None,
        })
    };
}

/// Makes `frame` current; returns the frame that was.
#[inline]
fn swap(frame: Frame) -> Frame {
    // After the thread-local is destroyed (a guard dropped by another
    // thread-local's destructor), there is no scope to keep.
    CURRENT.try_with(|c| c.replace(frame)).unwrap_or_default()
}

/// Runs `f` on the current scope's state (allocating it), if a scope is
/// current. `f` must not re-enter this module.
pub(crate) fn with_current<R>(f: impl FnOnce(&mut ScopeState) -> R) -> Option<R> {
    CURRENT
        .try_with(|c| {
            let mut frame = c.take();
            let result = frame
                .active
                .then(|| f(frame.state.get_or_insert_with(Box::default)));
            c.set(frame);
            result
        })
        .ok()
        .flatten()
}

/// Counts a query in the current scope; false when no scope is current.
pub(crate) fn record(
    statement: &Statement,
    elapsed: Duration,
    source: Option<&'static Location<'static>>,
) -> bool {
    with_current(|state| state.record(statement, elapsed, source)).is_some()
}

/// Ends a scope whose frame is no longer current: the detector's work
/// (when it saw queries). Returns the report, and whether `raise` mode
/// wants it raised (never while unwinding).
fn close(frame: Frame, name: &str, span: Option<&tracing::Span>) -> (Report, bool) {
    let Some(state) = frame.state else {
        return (Report::default(), false);
    };
    let (report, raise) = detector::close(state, name, span);
    (report, raise && !std::thread::panicking())
}

/// [`close`], then the panic `raise` mode asks for, if `may_raise`.
fn close_and_raise(
    frame: Frame,
    name: &str,
    span: Option<&tracing::Span>,
    may_raise: bool,
) -> Report {
    let (report, raise) = close(frame, name, span);
    if raise && may_raise {
        detector::raise(&report);
    }
    report
}

// ---------------------------------------------------------------------------
// What `#[observe]`'s CallGuard calls
// ---------------------------------------------------------------------------

/// The start of a sync observed body: a fresh scope becomes current; the
/// returned frame is the one to restore.
#[inline]
pub(crate) fn enter_call() -> Frame {
    swap(Frame::fresh())
}

/// The end of a sync observed body: restores `previous` and, when the
/// call's scope saw queries, closes it. Returns the report when `raise`
/// mode wants a panic: the caller raises it with [`raise`] once its own
/// bookkeeping is done.
#[inline]
pub(crate) fn leave_call(
    previous: Frame,
    name: &str,
    span: Option<&tracing::Span>,
) -> Option<Report> {
    super::pending::deliver_own(span);
    let mine = swap(previous);
    // No query: nothing to close (the common case, kept cheap).
    mine.state.as_ref()?;
    match close(mine, name, span) {
        (report, true) => Some(report),
        (_, false) => None,
    }
}

/// Panics with the report of an N+1, for `db.n_plus_one.mode = raise`.
#[cold]
pub(crate) fn raise(report: &Report) -> ! {
    detector::raise(report)
}

/// An observed async call's scope, current during each poll of its body.
pub(crate) struct CallScope<'a> {
    frame: Frame,
    name: &'a str,
    span: Option<&'a tracing::Span>,
}

impl<'a> CallScope<'a> {
    pub(crate) fn new(name: &'a str, span: Option<&'a tracing::Span>) -> Self {
        CallScope {
            frame: Frame::fresh(),
            name,
            span,
        }
    }

    /// Runs one poll of the body with this scope current. When the body is
    /// done (`done(&result)`), the scope is closed, and in `raise` mode an
    /// N+1 panics here.
    #[inline]
    pub(crate) fn poll<T>(&mut self, poll: impl FnOnce() -> Poll<T>) -> Poll<T> {
        let (result, ready) = {
            let _current = Current::enter(&mut self.frame);
            let result = poll();
            let ready = result.is_ready();
            if ready {
                super::pending::deliver_own(self.span);
            }
            (result, ready)
        };
        if ready && self.frame.state.is_some() {
            close_and_raise(std::mem::take(&mut self.frame), self.name, self.span, true);
        }
        result
    }
}

impl Drop for CallScope<'_> {
    fn drop(&mut self) {
        // Cancelled (or panicked) before the end: report what it saw, no panic.
        if self.frame.state.is_some() {
            close(std::mem::take(&mut self.frame), self.name, self.span);
        }
    }
}

/// While alive, `slot`'s frame is current; restores the previous one when
/// dropped, also on unwinding.
struct Current<'a> {
    slot: &'a mut Frame,
    previous: Option<Frame>,
    _not_send: PhantomData<*const ()>,
}

impl<'a> Current<'a> {
    #[inline]
    fn enter(slot: &'a mut Frame) -> Self {
        let previous = swap(std::mem::take(slot));
        Current {
            slot,
            previous: Some(previous),
            _not_send: PhantomData,
        }
    }
}

impl Drop for Current<'_> {
    #[inline]
    fn drop(&mut self) {
        if let Some(previous) = self.previous.take() {
            *self.slot = swap(previous);
        }
    }
}

// ---------------------------------------------------------------------------
// The public scope API
// ---------------------------------------------------------------------------

/// An N+1 scope: a unit of work (an HTTP request, a task, a batch) whose
/// queries are counted by fingerprint; when it ends, a statement repeated
/// `db.n_plus_one.threshold` times or more in it is reported (a
/// `n_plus_one_detected` warning, `db_n_plus_one_total{scope}`, attributes
/// on its span). `#[observe]` opens one for every call; this is for the
/// units of work that are not a function call.
///
/// The innermost current scope owns a query. A scope is current while you
/// are inside [`Scope::in_scope`] / [`Scope::enter`] (sync code), or while
/// the future given to [`Scope::instrument`] is being polled (async code,
/// across `.await` and threads). When it ends ([`Scope::finish`], drop, or
/// the instrumented future completing), its counts go to the scope around
/// it, which therefore also sees repetitions spread over several inner
/// scopes (a loop calling an observed helper).
///
/// Sync:
///
/// ```
/// use std::time::Duration;
/// use o11y_runtime::db::{Scope, record_query};
///
/// let mut scope = Scope::new("nightly_report");
/// scope.in_scope(|| {
///     for id in 0..10 {
///         let sql = format!("SELECT * FROM items WHERE order_id = {id}");
///         record_query("postgresql", &sql, Duration::from_millis(2), Some(1));
///     }
/// });
/// let report = scope.finish(); // also logged as n_plus_one_detected
/// assert_eq!(report.detections()[0].count, 10);
/// assert_eq!(report.detections()[0].fingerprint, "SELECT * FROM items WHERE order_id = ?");
/// ```
///
/// Async (what an HTTP middleware or a task runner does with each request
/// or job; the span, when given, receives the `db.*` attributes):
///
/// ```
/// use o11y_runtime::db::Scope;
///
/// async fn handle(path: &str) -> u16 { 200 }
///
/// # async fn serve() {
/// let span = tracing::info_span!("GET /orders");
/// let status = Scope::new("GET /orders")
///     .with_span(span)
///     .instrument(handle("/orders"))
///     .await;
/// # }
/// ```
///
/// A tower middleware that cannot name an `async` block stores the
/// [`Scoped`] future in its response future, or keeps a `Scope` and wraps
/// each poll of the inner future in [`Scope::in_scope`], then drops the
/// scope when the response is ready.
#[must_use = "a scope counts queries only while it is entered or its future is polled"]
#[derive(Debug)]
pub struct Scope {
    name: Cow<'static, str>,
    span: Option<tracing::Span>,
    frame: Frame,
    closed: bool,
}

impl Scope {
    /// A scope named `name`: the function, route (`GET /orders/{id}`) or
    /// task the reports name, and the `scope` label of
    /// `db_n_plus_one_total` (so keep names few: routes, not paths).
    ///
    /// ```
    /// let scope = o11y_runtime::db::Scope::new("GET /orders/{id}");
    /// assert_eq!(scope.name(), "GET /orders/{id}");
    /// ```
    pub fn new(name: impl Into<Cow<'static, str>>) -> Scope {
        Scope {
            name: name.into(),
            span: None,
            frame: Frame::fresh(),
            closed: false,
        }
    }

    /// A scope for `assert_no_n_plus_one`: `min_duration` and `mode` do not
    /// apply.
    pub(crate) fn strict(name: &'static str) -> Scope {
        Scope {
            name: Cow::Borrowed(name),
            span: None,
            frame: Frame::strict(),
            closed: false,
        }
    }

    /// The span that receives `db.query_count` and, on a detection,
    /// `db.n_plus_one.*`, and in which the warning is logged. Also what
    /// lets SQLite queries be attributed: sqlx runs them on a worker thread
    /// that enters the caller's span, so o11y finds the scope through it.
    ///
    /// ```
    /// let request = tracing::info_span!("request", otel.kind = "server");
    /// let scope = o11y_runtime::db::Scope::new("POST /checkout").with_span(request);
    /// ```
    pub fn with_span(mut self, span: tracing::Span) -> Scope {
        self.span = Some(span);
        self
    }

    /// The scope's name.
    ///
    /// ```
    /// assert_eq!(o11y_runtime::db::Scope::new("nightly").name(), "nightly");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Makes this scope current on this thread until the returned guard is
    /// dropped (the previous one is current again then). For sync code; in
    /// async code, use [`Scope::instrument`]: a guard held across an
    /// `.await` would leave the scope current on a thread that runs other
    /// tasks meanwhile.
    ///
    /// ```
    /// use std::time::Duration;
    /// use o11y_runtime::db::{Scope, record_query};
    ///
    /// let mut scope = Scope::new("import_batch");
    /// {
    ///     let _entered = scope.enter();
    ///     record_query("sqlite", "INSERT INTO rows (v) VALUES (1)", Duration::ZERO, None);
    /// } // the previous scope (here: none) is current again
    /// assert!(scope.finish().is_empty());
    /// ```
    pub fn enter(&mut self) -> Entered<'_> {
        Entered {
            _current: Current::enter(&mut self.frame),
        }
    }

    /// Runs `f` with this scope current.
    ///
    /// ```
    /// use std::time::Duration;
    /// use o11y_runtime::db::{Scope, record_query};
    ///
    /// let mut scope = Scope::new("warm_cache");
    /// let loaded = scope.in_scope(|| {
    ///     record_query("postgresql", "SELECT * FROM flags", Duration::ZERO, Some(12));
    ///     12
    /// });
    /// assert_eq!(loaded, 12);
    /// ```
    pub fn in_scope<R>(&mut self, f: impl FnOnce() -> R) -> R {
        let _entered = self.enter();
        f()
    }

    /// Wraps `future` so that this scope is current during each of its
    /// polls; the scope ends when the future completes (or is dropped).
    ///
    /// ```
    /// use o11y_runtime::db::{Scope, Scoped};
    ///
    /// async fn process(job: u32) -> u32 { job * 2 }
    ///
    /// // A nameable future, for a tower `Service` or a task runner.
    /// let job: Scoped<_> = Scope::new("send_invoices").instrument(process(21));
    /// # let _ = job;
    /// ```
    pub fn instrument<F: Future>(self, future: F) -> Scoped<F> {
        Scoped {
            future,
            scope: self,
        }
    }

    /// Ends the scope now and returns what it detected (nested scopes'
    /// detections included). Dropping the scope does the same, without the
    /// report.
    ///
    /// ```
    /// use std::time::Duration;
    /// use o11y_runtime::db::{Scope, record_query};
    ///
    /// let mut scope = Scope::new("rebuild_index");
    /// scope.in_scope(|| {
    ///     for id in 0..6 {
    ///         record_query("sqlite", &format!("DELETE FROM idx WHERE doc = {id}"), Duration::ZERO, None);
    ///     }
    /// });
    /// let report = scope.finish();
    /// assert_eq!(report.detections().len(), 1);
    /// assert_eq!(report.detections()[0].scope, "rebuild_index");
    /// ```
    pub fn finish(mut self) -> Report {
        self.close(true)
    }

    fn close(&mut self, may_raise: bool) -> Report {
        if std::mem::replace(&mut self.closed, true) {
            return Report::default();
        }
        if self.span.is_some() {
            // SQLite queries still waiting on this scope's span.
            let _current = Current::enter(&mut self.frame);
            super::pending::deliver_own(self.span.as_ref());
        }
        let frame = std::mem::take(&mut self.frame);
        close_and_raise(frame, &self.name, self.span.as_ref(), may_raise)
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        self.close(true);
    }
}

/// A [`Scope`] entered on this thread; see [`Scope::enter`].
#[must_use = "the scope is current only while this guard lives"]
pub struct Entered<'a> {
    _current: Current<'a>,
}

impl std::fmt::Debug for Entered<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entered").finish_non_exhaustive()
    }
}

pin_project_lite::pin_project! {
    /// A future run inside a [`Scope`]; see [`Scope::instrument`].
    #[must_use = "futures do nothing unless polled"]
    #[derive(Debug)]
    pub struct Scoped<F> {
        #[pin]
        future: F,
        scope: Scope,
    }
}

impl<F: Future> Future for Scoped<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let future = this.future;
        let poll = this.scope.in_scope(|| future.poll(cx));
        if poll.is_ready() {
            this.scope.close(true);
        }
        poll
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_send<T: Send>() {}

    #[test]
    fn scopes_travel_with_their_futures() {
        // An observed async fn's future holds its CallScope across awaits.
        is_send::<CallScope<'static>>();
        is_send::<Scope>();
        is_send::<Scoped<std::future::Ready<()>>>();
    }

    #[test]
    fn scopes_nest_and_the_innermost_owns_a_query() {
        let statement = super::super::statement::lookup("SELECT * FROM nest WHERE id = 1");
        let mut outer = Scope::new("outer");
        outer.in_scope(|| {
            let previous = enter_call();
            for _ in 0..5 {
                assert!(record(&statement, Duration::ZERO, None));
            }
            // The inner scope reports; the outer one does not report it again.
            assert!(leave_call(previous, "inner", None).is_none());
            assert!(record(&statement, Duration::ZERO, None));
        });
        let report = outer.finish();
        assert_eq!(report.detections().len(), 1, "{report}");
        assert_eq!(report.detections()[0].scope, "inner");
        assert_eq!(report.detections()[0].count, 5);
        // No scope current any more: not counted.
        assert!(!record(&statement, Duration::ZERO, None));
    }

    #[test]
    fn repetitions_spread_over_inner_scopes_are_seen_by_the_outer_one() {
        let statement = super::super::statement::lookup("SELECT * FROM spread WHERE id = 1");
        let mut outer = Scope::new("loops");
        outer.in_scope(|| {
            for _ in 0..6 {
                let previous = enter_call();
                record(&statement, Duration::ZERO, None);
                assert!(leave_call(previous, "helper", None).is_none());
            }
        });
        let report = outer.finish();
        assert_eq!(report.detections().len(), 1, "{report}");
        assert_eq!(report.detections()[0].scope, "loops");
        assert_eq!(report.detections()[0].count, 6);
    }
}
