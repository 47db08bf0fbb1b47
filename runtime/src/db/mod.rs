//! Databases: SQL fingerprints, query spans and metrics, the N+1 detector
//! and its test assertion, driver bridges (sqlx, feature `sqlx`) and
//! migration gauges.
//!
//! # Queries
//!
//! Each query becomes a CLIENT span (start = end − elapsed) child of the
//! span current when it ran, with OpenTelemetry's database attributes:
//! `db.system`, `db.namespace` (when known), `db.operation.name`,
//! `db.collection.name` (when one table is evident), `db.query.text` and
//! `db.response.returned_rows`. `db.query.text` is the statement's
//! [`fingerprint`], with every literal replaced by `?`, so that no value
//! leaves the process; `db.capture_parameters = true` puts the statement
//! as written instead. Metrics:
//! `db_client_operation_duration_seconds{db_system,db_operation_name}` and
//! `db_client_queries_total{db_system,db_operation_name,result}`.
//!
//! With the `sqlx` feature every sqlx query is reported without code
//! changes (the `sqlx` module says how, and what it needs). Other drivers
//! report through [`record_query`].
//!
//! # N+1 detection
//!
//! Every [`Scope`] counts the queries that run in it by fingerprint: each
//! `#[observe]` call opens one, the HTTP layer one per request, and you can
//! open your own (tasks, batches). The innermost scope owns a query; when a
//! scope ends, its counts go to the enclosing scope too. When a scope ends
//! with a fingerprint repeated at least `db.n_plus_one.threshold` times
//! (default 5, as Sentry's detector), covering at least
//! `db.n_plus_one.min_duration` of wall time (0 in `dev`, 50 ms in `prod`;
//! the union of the queries' intervals, as Sentry's: concurrent queries
//! count once), and
//! neither the scope nor the statement is in `db.n_plus_one.allowlist`:
//! - the scope's span gets `db.n_plus_one.detected = true`,
//!   `db.n_plus_one.fingerprint`, `db.n_plus_one.count`,
//!   `db.n_plus_one.duration_ms` (every scope span with queries gets
//!   `db.query_count`);
//! - one `warn` event `n_plus_one_detected` (target `o11y::db`) is logged
//!   per scope and fingerprint, with `fingerprint`, `count`, `duration_ms`,
//!   `scope`, `threshold`, and `source` (`file:line` of the first query,
//!   when known);
//! - `db_n_plus_one_total{scope}` counts it;
//! - in `db.n_plus_one.mode = raise`, the scope's end panics with the
//!   report (for test suites); `off` disables detection.
//!
//! A fingerprint reported by an inner scope is not reported again by the
//! scopes around it. In tests, [`assert_no_n_plus_one`] and
//! [`assert_no_n_plus_one_async`] fail with a readable report.
//!
//! The detector's cost per query for a statement seen before is a hash of
//! its text, a lookup in a bounded cache (no normalisation) and a counter
//! update: see `benches/db.rs`.
//!
//! # Migrations
//!
//! `db_migrations_applied{database}` and `db_migrations_pending{database}`:
//! set by `refresh_migrations` (sqlx's migrator against its
//! `_sqlx_migrations` table, feature `sqlx`) or [`set_migration_counts`].

mod assert;
mod detector;
mod fingerprint;
pub(crate) mod hooks;
mod migrations;
mod pending;
mod query;
pub(crate) mod scope;
mod settings;
#[cfg(feature = "sqlx")]
pub mod sqlx;
mod statement;

pub use assert::{assert_no_n_plus_one, assert_no_n_plus_one_async};
pub use detector::{Detection, Report};
pub use fingerprint::{MAX_STATEMENT_LEN, fingerprint};
#[cfg(feature = "sqlx")]
pub use migrations::refresh_migrations;
pub use migrations::{MigrationCounts, set_migration_counts};
pub use query::{record_query, record_query_error};
pub use scope::{Entered, Scope, Scoped};

pub(crate) use pending::{Waiting, any as queries_waiting};
pub(crate) use settings::set_query_words;

/// What bridges driver events (sqlx's) into query spans, metrics and N+1
/// counts: a layer in a `tracing-subscriber` stack, a stage of
/// `init()`'s subscriber.
#[cfg(feature = "sqlx")]
pub(crate) type Bridge = sqlx::SqlxLayer;
#[cfg(not(feature = "sqlx"))]
pub(crate) type Bridge = NoBridge;

/// The bridge, exporting its query spans with `sampler` into `queue`.
#[cfg(feature = "sqlx")]
pub(crate) fn bridge(sampler: crate::trace::Sampler, sink: Option<SpanSinkRef>) -> Bridge {
    sqlx::SqlxLayer::new(sampler, sink)
}

/// Without a driver feature there is nothing to bridge.
#[cfg(not(feature = "sqlx"))]
pub(crate) fn bridge(_: crate::trace::Sampler, _: Option<SpanSinkRef>) -> Bridge {
    NoBridge
}

/// The bridge without a driver feature: nothing to do.
#[cfg(not(feature = "sqlx"))]
#[derive(Debug)]
pub(crate) struct NoBridge;

#[cfg(not(feature = "sqlx"))]
impl NoBridge {
    #[inline]
    pub(crate) fn wants_event(_: &tracing_core::Event<'_>) -> bool {
        false
    }

    pub(crate) fn event(&self, _: &tracing_core::Event<'_>, _: Option<&impl QuerySpan>) {}

    #[inline]
    pub(crate) fn deliver(_: &mut Waiting) {}
}

/// Where the bridge sends its query spans: the span stage's sink.
pub(crate) type SpanSinkRef = std::sync::Arc<dyn crate::trace::SpanSink>;

/// What the bridge needs of the span a query event happened in, as the
/// subscriber keeps it: its ids (a query span's parent) and its waiting
/// queries.
pub(crate) trait QuerySpan {
    /// Runs `f` on the span's trace state and the queries waiting on it;
    /// `None` when o11y keeps no state for the span.
    #[cfg_attr(not(feature = "sqlx"), allow(dead_code))] // only a driver bridge asks
    fn with_parts<R>(
        &self,
        f: impl FnOnce(&crate::trace::SpanState, &mut Waiting) -> R,
    ) -> Option<R>;
}

/// Whether an event is a driver's query event that only the bridge wants
/// (the configured level filters it out): log lines and span events skip it.
#[inline]
pub(crate) fn only_for_bridge(metadata: &tracing_core::Metadata<'_>) -> bool {
    #[cfg(feature = "sqlx")]
    {
        sqlx::only_for_bridge(metadata)
    }
    #[cfg(not(feature = "sqlx"))]
    {
        let _ = metadata;
        false
    }
}
