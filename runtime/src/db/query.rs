//! One query, reported once it has run: the span (CLIENT, start = end −
//! elapsed, a child of the current span), the metrics, and the N+1
//! detector's count. Drivers without a bridge report through
//! [`record_query`]; the sqlx bridge goes through the same path.

use std::borrow::Cow;
use std::panic::Location;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use opentelemetry::KeyValue;
use opentelemetry::trace::{SpanKind, Status};

use crate::flags::{METRICS, flags};
use crate::metrics::register_own_metric;
use crate::metrics::{CounterVec, HistogramVec, MetricDesc};
use crate::trace::finished::FinishedSpan;

use super::fingerprint::truncate;
use super::settings;
use super::statement::{self, Statement};

static QUERY_DURATION: HistogramVec<2> = HistogramVec::new(
    MetricDesc::histogram(
        "db_client_operation_duration_seconds",
        "Duration of database queries",
    )
    .unit("seconds")
    // OpenTelemetry's advice for `db.client.operation.duration`: from 1 ms,
    // where most queries are, rather than HTTP's 5 ms.
    .buckets(&[0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0])
    .labels(&["db_system", "db_operation_name"])
    // No exemplar: the query's own span is exported after the fact and is
    // not the current span these are recorded in (`MetricDesc::exemplars`).
    .exemplars(false),
);
static QUERIES: CounterVec<3> = CounterVec::new(
    MetricDesc::counter("db_client_queries_total", "Database queries, by result")
        .labels(&["db_system", "db_operation_name", "result"])
        .exemplars(false),
);
register_own_metric!(QUERY_DURATION);
register_own_metric!(QUERIES);

/// A query as a driver reports it.
#[derive(Debug)]
pub(crate) struct Query<'a> {
    /// `postgresql`, `sqlite`, `mysql`, … (OpenTelemetry's `db.system`).
    pub(crate) system: &'a str,
    /// The database (`db.namespace`), when known.
    pub(crate) namespace: Option<&'a str>,
    pub(crate) sql: &'a str,
    pub(crate) elapsed: Duration,
    /// When it ended; now, for a query reported as it ends.
    pub(crate) end: SystemTime,
    pub(crate) rows: Option<u64>,
    /// The error's type, for a failed query.
    pub(crate) error: Option<&'a str>,
    /// Where it was issued, when the caller knows.
    pub(crate) source: Option<&'static Location<'static>>,
}

/// The metrics of a query, and its statement (cached).
pub(crate) fn measure(query: &Query<'_>) -> Arc<Statement> {
    let statement = statement::lookup(query.sql);
    if flags() & METRICS != 0 {
        let labels = [query.system, &*statement.operation];
        QUERY_DURATION
            .labels(labels)
            .observe(query.elapsed.as_secs_f64());
        let result = if query.error.is_some() { "error" } else { "ok" };
        QUERIES
            .labels([query.system, &statement.operation, result])
            .inc();
    }
    statement
}

/// The CLIENT span of a query, following OpenTelemetry's database
/// conventions; `db.query.text` is the fingerprint unless
/// `db.capture_parameters` is on.
pub(crate) fn span(query: &Query<'_>, statement: &Statement) -> FinishedSpan {
    let text = if settings::capture_parameters() {
        KeyValue::new("db.query.text", truncate(query.sql).0.to_owned())
    } else {
        KeyValue::new("db.query.text", statement.fingerprint.clone())
    };
    let mut attributes = vec![
        KeyValue::new("db.system", query.system.to_owned()),
        KeyValue::new("db.operation.name", statement.operation.clone()),
        text,
    ];
    if let Some(namespace) = query.namespace {
        attributes.push(KeyValue::new("db.namespace", namespace.to_owned()));
    }
    if let Some(collection) = &statement.collection {
        attributes.push(KeyValue::new("db.collection.name", collection.clone()));
    }
    if let Some(rows) = query.rows {
        let rows = i64::try_from(rows).unwrap_or(i64::MAX);
        attributes.push(KeyValue::new("db.response.returned_rows", rows));
    }
    if let Some(source) = query.source {
        attributes.push(KeyValue::new("code.file.path", source.file()));
        attributes.push(KeyValue::new("code.line.number", i64::from(source.line())));
    }
    let status = match query.error {
        Some(error) => {
            attributes.push(KeyValue::new("error.type", error.to_owned()));
            Status::error(error.to_owned())
        }
        None => Status::Unset,
    };
    FinishedSpan {
        name: Cow::Owned(statement.span_name.to_string()),
        kind: SpanKind::Client,
        start: query.end.checked_sub(query.elapsed).unwrap_or(query.end),
        end: query.end,
        attributes,
        status,
    }
}

/// Reports a query that has run: a CLIENT span (start = now − `elapsed`)
/// child of the current span, with `db.system`, `db.operation.name`,
/// `db.query.text` (the fingerprint: literals replaced by `?`, unless
/// `db.capture_parameters` is on) and `db.response.returned_rows`; the
/// metrics `db_client_operation_duration_seconds{db_system,
/// db_operation_name}` and `db_client_queries_total{db_system,
/// db_operation_name,result="ok"}`; and one count for the N+1 detector in
/// the current scope, with the caller's location as the query's source.
///
/// For drivers o11y has no bridge for; sqlx queries are reported without
/// code (feature `sqlx`). `system` is OpenTelemetry's name: `postgresql`,
/// `sqlite`, `mysql`, … Call it as the query ends. `rows`: the rows it
/// returned, when known.
///
/// ```
/// use std::time::Instant;
///
/// let started = Instant::now();
/// // ... run `SELECT name FROM users WHERE id = 42` with your driver ...
/// o11y_runtime::db::record_query(
///     "postgresql",
///     "SELECT name FROM users WHERE id = 42",
///     started.elapsed(),
///     Some(1),
/// );
/// ```
#[track_caller]
pub fn record_query(system: &str, sql: &str, elapsed: Duration, rows: Option<u64>) {
    report_ended(system, sql, elapsed, rows, None);
}

/// Like [`record_query`], for a query that failed: the span's status is
/// error with `error.type = error_type`, and it counts in
/// `db_client_queries_total{result="error"}`.
///
/// ```
/// use std::time::Duration;
///
/// o11y_runtime::db::record_query_error(
///     "sqlite",
///     "INSERT INTO users (email) VALUES ('a@b.c')",
///     Duration::from_micros(300),
///     "unique_violation",
/// );
/// ```
#[track_caller]
pub fn record_query_error(system: &str, sql: &str, elapsed: Duration, error_type: &str) {
    report_ended(system, sql, elapsed, None, Some(error_type));
}

/// A query of a driver without a bridge, ending now, from the caller's
/// caller's code.
#[track_caller]
fn report_ended(
    system: &str,
    sql: &str,
    elapsed: Duration,
    rows: Option<u64>,
    error: Option<&str>,
) {
    report(Query {
        system,
        namespace: None,
        sql,
        elapsed,
        end: SystemTime::now(),
        rows,
        error,
        source: Some(Location::caller()),
    });
}

fn report(query: Query<'_>) {
    let statement = measure(&query);
    let time = super::detector::QueryTime {
        elapsed: query.elapsed,
        end: query.end,
    };
    super::scope::record(&statement, time, query.source);
    if flags() != 0
        && let Some(access) = super::hooks::access()
    {
        (access.export_in_current)(span(&query, &statement), settings::trace_root_queries());
    }
}
