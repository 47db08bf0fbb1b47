//! The N+1 detector: what a scope counts (queries by fingerprint), and what
//! happens when it ends: the detection rule (a fingerprint repeated at
//! least `db.n_plus_one.threshold` times, covering at least
//! `db.n_plus_one.min_duration` of wall time (the union of the queries'
//! intervals: queries run concurrently count once), not allowlisted), the scope
//! span's attributes, the `n_plus_one_detected` warning, the
//! `db_n_plus_one_total{scope}` counter, and the hand-over of the counts to
//! the enclosing scope.
//!
//! A scope hands what it counted to the scope around it when it ends, so
//! a loop that calls an observed helper running one query per call is seen
//! by the function that loops; a fingerprint already reported by an inner
//! scope is not reported again by the outer ones.

use std::fmt;
use std::panic::Location;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use hashbrown::HashMap;
use opentelemetry::KeyValue;

use crate::config::NPlusOneMode;
use crate::metrics::register_own_metric;
use crate::metrics::{CounterVec, MetricDesc};

use super::settings::{self, Settings};
use super::statement::Statement;

/// Distinct fingerprints one scope keeps counts for; queries of others are
/// counted in `db.query_count` only. Bounds a long-lived scope's memory.
const MAX_FINGERPRINTS: usize = 1024;
/// Detections of nested scopes one scope keeps for its report.
const MAX_NESTED: usize = 64;

static N_PLUS_ONE: CounterVec<1> = CounterVec::new(
    MetricDesc::counter(
        "db_n_plus_one_total",
        "N+1 query patterns detected, by the scope (function, route, task) they ran in",
    )
    .labels(&["scope"])
    // Counted when a scope ends, outside the scope's span (entered only for
    // the warning): no exemplar (`MetricDesc::exemplars`).
    .exemplars(false),
);
register_own_metric!(N_PLUS_ONE);

/// One N+1: a statement repeated within one scope; its `Display` is the
/// line of a report.
///
/// ```
/// use std::time::Duration;
/// use o11y_runtime::db::{Scope, record_query};
///
/// let mut scope = Scope::new("list_orders");
/// scope.in_scope(|| {
///     for id in 1..=5 {
///         let sql = format!("SELECT * FROM items WHERE order_id = {id}");
///         record_query("sqlite", &sql, Duration::from_millis(1), Some(2));
///     }
/// });
/// let report = scope.finish();
/// let detection = &report.detections()[0];
/// assert_eq!(detection.count, 5);
/// assert_eq!(detection.duration, Duration::from_millis(5));
/// assert!(detection.source.as_deref().is_some_and(|s| s.contains(".rs:")));
/// assert!(detection.to_string().starts_with("5 × `SELECT * FROM items WHERE order_id = ?` in list_orders"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Detection {
    /// The repeated statement's fingerprint (literals replaced by `?`).
    pub fingerprint: String,
    /// How many times it ran in the scope.
    pub count: u32,
    /// Their total duration.
    pub duration: Duration,
    /// The scope: the observed function, the route, the task.
    pub scope: String,
    /// Where the first of them was issued (`file:line`), when known: given
    /// by [`record_query`](super::record_query)'s caller; not known for
    /// queries seen through sqlx's events.
    pub source: Option<String>,
}

impl fmt::Display for Detection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} × `{}` in {} ({:.1} ms in total",
            self.count,
            self.fingerprint,
            self.scope,
            crate::clock::millis(self.duration)
        )?;
        if let Some(source) = &self.source {
            write!(f, ", first at {source}")?;
        }
        f.write_str(")")
    }
}

/// What a scope detected when it ended, nested scopes' detections included
/// ([`Scope::finish`](super::Scope::finish)); its `Display` is the readable
/// report `assert_no_n_plus_one` fails with.
///
/// ```
/// let report = o11y_runtime::db::Scope::new("idle").finish();
/// assert!(report.is_empty());
/// assert_eq!(report.to_string(), "no N+1 query detected");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    detections: Vec<Detection>,
}

impl Report {
    /// Every N+1 detected, in the order the scopes reported them.
    pub fn detections(&self) -> &[Detection] {
        &self.detections
    }

    /// No N+1 was detected.
    pub fn is_empty(&self) -> bool {
        self.detections.is_empty()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.detections.is_empty() {
            return f.write_str("no N+1 query detected");
        }
        write!(
            f,
            "{} N+1 query pattern(s) detected:",
            self.detections.len()
        )?;
        for detection in &self.detections {
            write!(f, "\n  - {detection}")?;
        }
        Ok(())
    }
}

/// When a query ran: how long, and when it ended.
#[derive(Debug, Clone, Copy)]
pub(crate) struct QueryTime {
    pub(crate) elapsed: Duration,
    pub(crate) end: SystemTime,
}

struct Entry {
    fingerprint: Arc<str>,
    count: u32,
    /// The sum of the queries' durations.
    total: Duration,
    /// The wall time they cover: the union of their intervals, so that
    /// queries run concurrently count once. Exact for queries counted in
    /// the order they ended, as they are.
    covered: Duration,
    /// The end of the last interval covered.
    until: SystemTime,
    source: Option<&'static Location<'static>>,
    /// An inner scope reported it already.
    reported: bool,
}

/// What one scope counted; allocated by its first query.
#[derive(Default)]
pub(crate) struct ScopeState {
    queries: u64,
    entries: HashMap<u64, Entry, foldhash::fast::FixedState>,
    /// Detections of nested scopes, for this scope's report.
    nested: Vec<Detection>,
    /// Set by `assert_no_n_plus_one`: every repetition at the threshold
    /// counts, whatever `min_duration` and `mode` say.
    strict: bool,
}

impl fmt::Debug for ScopeState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScopeState")
            .field("queries", &self.queries)
            .field("fingerprints", &self.entries.len())
            .finish()
    }
}

impl ScopeState {
    /// The state of an `assert_no_n_plus_one` scope.
    pub(crate) fn strict() -> ScopeState {
        ScopeState {
            strict: true,
            ..ScopeState::default()
        }
    }

    /// Counts one query.
    #[inline]
    pub(crate) fn record(
        &mut self,
        statement: &Statement,
        time: QueryTime,
        source: Option<&'static Location<'static>>,
    ) {
        self.queries += 1;
        if let Some(entry) = self.entries.get_mut(&statement.hash) {
            entry.count = entry.count.saturating_add(1);
            entry.total += time.elapsed;
            entry.cover(time);
            return;
        }
        if self.entries.len() < MAX_FINGERPRINTS {
            self.entries.insert(
                statement.hash,
                Entry {
                    fingerprint: statement.fingerprint.clone(),
                    count: 1,
                    total: time.elapsed,
                    covered: time.elapsed,
                    until: time.end,
                    source,
                    reported: false,
                },
            );
        }
    }
}

impl Entry {
    /// Adds the part of `time`'s interval not covered yet.
    fn cover(&mut self, time: QueryTime) {
        if time.end <= self.until {
            return;
        }
        let start = time.end.checked_sub(time.elapsed).unwrap_or(time.end);
        let from = start.max(self.until);
        self.covered += time.end.duration_since(from).unwrap_or_default();
        self.until = time.end;
    }
}

impl ScopeState {
    /// Takes in what an inner scope counted and reported.
    fn absorb(&mut self, inner: ScopeState, reported: &[Detection]) {
        self.queries += inner.queries;
        for (hash, entry) in inner.entries {
            let room = self.entries.len() < MAX_FINGERPRINTS;
            match self.entries.get_mut(&hash) {
                Some(mine) => {
                    mine.count = mine.count.saturating_add(entry.count);
                    mine.total += entry.total;
                    // Taken as apart from this scope's own: they ran in turn.
                    mine.covered += entry.covered;
                    mine.until = mine.until.max(entry.until);
                    mine.reported |= entry.reported;
                    mine.source = mine.source.or(entry.source);
                }
                None if room => {
                    self.entries.insert(hash, entry);
                }
                None => {}
            }
        }
        for detection in reported.iter().chain(&inner.nested) {
            if self.nested.len() < MAX_NESTED {
                self.nested.push(detection.clone());
            }
        }
    }
}

/// The end of a scope, once its state is known and the enclosing scope is
/// current again: applies the detection rule, writes the scope span's
/// attributes, logs and counts each detection, and hands the counts to the
/// enclosing scope, if any.
///
/// Returns the report (nested detections included) and whether `raise`
/// mode wants a panic, which the caller raises once its own bookkeeping is
/// done.
pub(crate) fn close(
    mut state: Box<ScopeState>,
    scope: &str,
    span: Option<&tracing::Span>,
) -> (Report, bool) {
    let settings = settings::current();
    let found = detect(&mut state, scope, &settings);
    if let Some(span) = span {
        set_span_attributes(span, &state, &found);
    }
    for detection in &found {
        let warn = || {
            tracing::warn!(
                target: "o11y::db",
                fingerprint = %detection.fingerprint,
                count = detection.count,
                duration_ms = crate::clock::millis(detection.duration),
                scope = %detection.scope,
                source = detection.source.as_deref(),
                threshold = settings.threshold,
                "n_plus_one_detected"
            );
        };
        match span {
            Some(span) => span.in_scope(warn),
            None => warn(),
        }
        N_PLUS_ONE.labels([scope]).inc();
    }
    let raise = settings.mode == NPlusOneMode::Raise && !state.strict && !found.is_empty();
    let mut report = Report { detections: found };
    report.detections.extend(state.nested.iter().cloned());
    let own = report.detections.len() - state.nested.len();
    // An allowlisted scope's repeats are allowed wherever they add up: the
    // enclosing scope gets its query count, not its statements.
    if settings.allows_scope(scope) && !state.strict {
        state.entries.clear();
    }
    super::scope::with_current(|parent| parent.absorb(*state, &report.detections[..own]));
    (report, raise)
}

fn detect(state: &mut ScopeState, scope: &str, settings: &Settings) -> Vec<Detection> {
    if settings.mode == NPlusOneMode::Off && !state.strict {
        return Vec::new();
    }
    let mut found: Vec<Detection> = state
        .entries
        .values_mut()
        .filter(|e| !e.reported && e.count >= settings.threshold)
        .filter(|e| state.strict || e.covered >= settings.min_duration)
        .filter(|e| !settings.allows(scope, &e.fingerprint))
        .map(|e| {
            e.reported = true;
            Detection {
                fingerprint: e.fingerprint.to_string(),
                count: e.count,
                duration: e.total,
                scope: scope.to_owned(),
                source: e.source.map(|l| format!("{}:{}", l.file(), l.line())),
            }
        })
        .collect();
    // The worst first: it is the one the span's attributes describe.
    found.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then(a.fingerprint.cmp(&b.fingerprint))
    });
    found
}

fn set_span_attributes(span: &tracing::Span, state: &ScopeState, found: &[Detection]) {
    let queries = i64::try_from(state.queries).unwrap_or(i64::MAX);
    let mut attributes = vec![KeyValue::new("db.query_count", queries)];
    if let Some(worst) = found.first() {
        attributes.extend([
            KeyValue::new("db.n_plus_one.detected", true),
            KeyValue::new("db.n_plus_one.fingerprint", worst.fingerprint.clone()),
            KeyValue::new("db.n_plus_one.count", i64::from(worst.count)),
            KeyValue::new(
                "db.n_plus_one.duration_ms",
                crate::clock::millis(worst.duration),
            ),
        ]);
    }
    if let Some(access) = super::hooks::access() {
        (access.set_attributes)(span, attributes);
    }
}

/// Panics with `report`, for `raise` mode.
pub(crate) fn raise(report: &Report) -> ! {
    panic!("N+1 queries (db.n_plus_one.mode = raise): {report}")
}
