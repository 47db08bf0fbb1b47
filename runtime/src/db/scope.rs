//! N+1 scopes: which scope owns a query. Scopes nest on each thread: a
//! scope is entered for the duration of a sync body and for each poll of a
//! future, and left after, so they follow async code across `.await` and
//! thread migration (a suspended scope's counts travel with its future).
//! The innermost entered scope owns a query.
//!
//! The thread-local bookkeeping is a depth (scopes entered) and a stack of
//! the counts of the entered scopes that have some, each with its depth.
//! A scope's counts are allocated by its first query: an observed call that
//! runs none pays a depth increment and a decrement, and a comparison.
//!
//! Scopes come from `#[observe]` calls (through `CallGuard`), from
//! [`Scope`] (the HTTP layer's requests, tasks, your own units of work),
//! and from [`assert_no_n_plus_one`](super::assert_no_n_plus_one).
//!
//! Slightly over 500 lines: the thread-local scope stack and the two ways a
//! scope is current (a sync call's body, each poll of a future) share its
//! private state.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::marker::PhantomData;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::detector::{self, QueryTime, Report, ScopeState};
use super::statement::Statement;

/// What a scope holds while it is not entered: its counts, once it has
/// seen a query.
pub(crate) type Held = Option<Box<ScopeState>>;

thread_local! {
    /// Scopes entered on this thread; 0: none.
    static DEPTH: Cell<u32> = const { Cell::new(0) };
    /// The depth of the last entry of `STATES`; 0: empty.
    static TOP: Cell<u32> = const { Cell::new(0) };
    /// The counts of entered scopes that have some, innermost last.
    static STATES: RefCell<Vec<(u32, Box<ScopeState>)>> = const { RefCell::new(Vec::new()) };
}

/// Enters a scope holding `held`.
#[inline]
fn push(held: Held) {
    let depth = DEPTH.get() + 1;
    DEPTH.set(depth);
    if let Some(state) = held {
        let pushed = STATES.try_with(|states| {
            if let Ok(mut states) = states.try_borrow_mut() {
                states.push((depth, state));
            }
        });
        if pushed.is_ok() {
            TOP.set(depth);
        }
    }
}

/// Leaves the innermost scope; returns what it holds.
#[inline]
fn pop() -> Held {
    let depth = DEPTH.get();
    let held = if TOP.get() == depth && depth != 0 {
        take_top()
    } else {
        None
    };
    DEPTH.set(depth.saturating_sub(1));
    held
}

#[cold]
fn take_top() -> Held {
    STATES
        .try_with(|states| {
            let mut states = states.try_borrow_mut().ok()?;
            let (_, state) = states.pop()?;
            TOP.set(states.last().map_or(0, |(depth, _)| *depth));
            Some(state)
        })
        .ok()
        .flatten()
}

/// Runs `f` on the innermost scope's counts (allocating them), if a scope
/// is entered. `f` must not re-enter this module.
pub(crate) fn with_current<R>(f: impl FnOnce(&mut ScopeState) -> R) -> Option<R> {
    let depth = DEPTH.get();
    if depth == 0 {
        return None;
    }
    STATES
        .try_with(|states| {
            let mut states = states.try_borrow_mut().ok()?;
            if TOP.get() != depth {
                states.push((depth, Box::default()));
                TOP.set(depth);
            }
            states.last_mut().map(|(_, state)| f(state))
        })
        .ok()
        .flatten()
}

/// Counts a query in the current scope; false when no scope is current.
pub(crate) fn record(
    statement: &Statement,
    time: QueryTime,
    source: Option<&'static Location<'static>>,
) -> bool {
    with_current(|state| state.record(statement, time, source)).is_some()
}

/// Ends a scope that is no longer entered: the detector's work (when it
/// saw queries). Returns the report, and whether `raise` mode wants it
/// raised (never while unwinding).
fn close(held: Held, name: &str, span: Option<&tracing::Span>) -> (Report, bool) {
    let Some(state) = held else {
        return (Report::default(), false);
    };
    let (report, raise) = detector::close(state, name, span);
    (report, raise && !std::thread::panicking())
}

/// [`close`], then the panic `raise` mode asks for, if `may_raise`.
fn close_and_raise(
    held: Held,
    name: &str,
    span: Option<&tracing::Span>,
    may_raise: bool,
) -> Report {
    let (report, raise) = close(held, name, span);
    if raise && may_raise {
        detector::raise(&report);
    }
    report
}

// ---------------------------------------------------------------------------
// What `#[observe]`'s CallGuard calls
// ---------------------------------------------------------------------------

/// The start of a sync observed body: its scope is entered.
#[inline(always)]
pub(crate) fn enter_call() {
    DEPTH.set(DEPTH.get() + 1);
}

/// The end of a sync observed body: leaves its scope and, when it saw
/// queries, closes it. Returns the report when `raise` mode wants a panic:
/// the caller raises it with [`raise`] once its own bookkeeping is done.
#[inline(always)]
pub(crate) fn leave_call(name: &str, span: Option<&tracing::Span>) -> Option<Report> {
    super::pending::deliver_own(span);
    let depth = DEPTH.get();
    if TOP.get() != depth {
        // No query: nothing to close (the common case, kept cheap).
        DEPTH.set(depth.saturating_sub(1));
        return None;
    }
    close_call(name, span)
}

#[cold]
#[inline(never)]
fn close_call(name: &str, span: Option<&tracing::Span>) -> Option<Report> {
    match close(pop(), name, span) {
        (report, true) => Some(report),
        (_, false) => None,
    }
}

/// Panics with the report of an N+1, for `db.n_plus_one.mode = raise`.
#[cold]
pub(crate) fn raise(report: &Report) -> ! {
    detector::raise(report)
}

/// An observed async call's scope, entered during each poll of its body.
pub(crate) struct CallScope<'a> {
    held: Held,
    name: &'a str,
    span: Option<&'a tracing::Span>,
}

impl<'a> CallScope<'a> {
    pub(crate) fn new(name: &'a str, span: Option<&'a tracing::Span>) -> Self {
        CallScope {
            held: None,
            name,
            span,
        }
    }

    /// Enters this scope for one poll of the body, until
    /// [`EnteredScope::leave`] (or the drop of what this returns, when the
    /// poll panics). Not generic: one copy for every observed async
    /// function.
    pub(crate) fn enter(&mut self) -> EnteredScope<'_, 'a> {
        push(self.held.take());
        EnteredScope {
            scope: self,
            left: false,
        }
    }
}

/// A [`CallScope`] entered for one poll; see [`CallScope::enter`].
pub(crate) struct EnteredScope<'s, 'a> {
    scope: &'s mut CallScope<'a>,
    left: bool,
}

impl EnteredScope<'_, '_> {
    /// Leaves the scope after a poll. When the body is done (`ready`), the
    /// scope is closed, and in `raise` mode an N+1 panics here.
    pub(crate) fn leave(mut self, ready: bool) {
        let scope = &mut *self.scope;
        if ready {
            super::pending::deliver_own(scope.span);
        }
        scope.held = pop();
        self.left = true;
        if ready && scope.held.is_some() {
            close_and_raise(scope.held.take(), scope.name, scope.span, true);
        }
    }
}

impl Drop for EnteredScope<'_, '_> {
    fn drop(&mut self) {
        // Unwinding out of the poll: what the scope holds goes back to it.
        if !self.left {
            self.scope.held = pop();
        }
    }
}

impl Drop for CallScope<'_> {
    fn drop(&mut self) {
        // Cancelled (or panicked) before the end: report what it saw, no panic.
        if self.held.is_some() {
            close(self.held.take(), self.name, self.span);
        }
    }
}

/// While alive, the scope holding `slot` is entered; left when dropped,
/// also on unwinding, and what it then holds goes back to `slot`.
struct Current<'a> {
    slot: &'a mut Held,
    _not_send: PhantomData<*const ()>,
}

impl<'a> Current<'a> {
    #[inline]
    fn enter(slot: &'a mut Held) -> Self {
        push(slot.take());
        Current {
            slot,
            _not_send: PhantomData,
        }
    }
}

impl Drop for Current<'_> {
    #[inline]
    fn drop(&mut self) {
        *self.slot = pop();
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
    held: Held,
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
            held: None,
            closed: false,
        }
    }

    /// A scope for `assert_no_n_plus_one`: `min_duration` and `mode` do not
    /// apply.
    pub(crate) fn strict(name: &'static str) -> Scope {
        Scope {
            name: Cow::Borrowed(name),
            span: None,
            held: Some(Box::new(ScopeState::strict())),
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
    /// dropped (the previous one is current again then), and enters its
    /// span ([`Scope::with_span`]) for as long. For sync code; in
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
        // The scope first, then its span: entering the span hands over the
        // SQLite queries waiting on it, which must find the scope current.
        let current = Current::enter(&mut self.held);
        Entered {
            _span: self.span.as_ref().map(tracing::Span::enter),
            _current: current,
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

    /// Ends the scope as [`Scope::with_span`]`(span)` would have, for an
    /// owner that keeps the span itself: the HTTP layer's request, which
    /// then holds one handle on its span rather than two.
    #[cfg(feature = "axum")]
    pub(crate) fn close_in(mut self, span: &tracing::Span) {
        self.close_with(Some(span), true);
    }

    fn close(&mut self, may_raise: bool) -> Report {
        let span = self.span.take();
        self.close_with(span.as_ref(), may_raise)
    }

    fn close_with(&mut self, span: Option<&tracing::Span>, may_raise: bool) -> Report {
        if std::mem::replace(&mut self.closed, true) {
            return Report::default();
        }
        if span.is_some() {
            // SQLite queries still waiting on this scope's span.
            let _current = Current::enter(&mut self.held);
            super::pending::deliver_own(span);
        }
        close_and_raise(self.held.take(), &self.name, span, may_raise)
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
    // Dropped in this order: the span is left before the scope.
    _span: Option<tracing::span::Entered<'a>>,
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
mod tests;
