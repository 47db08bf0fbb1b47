//! The sqlx bridge (feature `sqlx`): every sqlx query becomes a CLIENT span,
//! metrics and an N+1 count, without code changes.
//!
//! sqlx reports each statement it ran as a `tracing` event with target
//! `sqlx::query` (fields `summary`, `db.statement`, `rows_returned`,
//! `rows_affected`, `elapsed`, `elapsed_secs`), at DEBUG by default (WARN
//! when slow). o11y's subscriber ([`init`](crate::init)) lets these events
//! through to its bridge whatever `logging.level` says, and prints them as
//! log lines only when `logging.level` asks for them (e.g.
//! `info,sqlx::query=debug`). The span has start = end − `elapsed_secs`, the
//! span current when sqlx logged the event as its parent, and the
//! attributes listed in [`crate::db`].
//!
//! What sqlx's event does not say, and how o11y knows it:
//! - the database system: `sqlite` for statements run on sqlx's SQLite
//!   worker threads (named `sqlx-sqlite-worker-N` unless you rename them);
//!   otherwise the system of the pools given to [`register_pool`] (or
//!   [`refresh_migrations`](super::refresh_migrations)) when they all agree,
//!   else `postgresql` for statements with `$1` placeholders, else
//!   `other_sql`;
//! - the database name (`db.namespace`): that of the registered pool of
//!   that system, when there is exactly one;
//! - failures: sqlx's event has no error, so its queries count as
//!   `result="ok"`.
//!
//! SQLite statements run on a worker thread, outside the caller's N+1
//! scope; the worker enters the caller's span, and o11y counts the
//! statement in the scope current when that span is next entered or closed
//! in the caller, or when its scope ends. A scope therefore sees its SQLite
//! queries when a span is current inside it: a sampled `#[observe]` call
//! (every call in `dev`), one with `fields(..)`, an HTTP request span, a
//! `#[tracing::instrument]` function, or a [`Scope`](super::Scope) with a
//! span. PostgreSQL and MySQL statements are seen on the caller's thread,
//! span or not.
//!
//! When composing o11y with [`layer()`](crate::layer) instead of `init()`,
//! the filter is yours: let `sqlx::query` events at DEBUG through it, or
//! the bridge sees nothing.

use std::cell::Cell;
use std::sync::RwLock;
use std::time::{Duration, SystemTime};

use tracing_core::field::{Field, Visit};
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::subscriber::Interest;
use tracing_core::{Event, LevelFilter, Metadata, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;

use crate::export_thread::is_export_thread;
use crate::flags::{TRACING, flags};
use crate::log::LevelDirectives;
use crate::trace::Sampler;
use crate::trace::finished;

use super::detector::QueryTime;
use super::query::{self, Query};
use super::{pending, scope, settings};

/// The target of sqlx's query events.
const QUERY_TARGET: &str = "sqlx::query";
/// The target of `assert_no_n_plus_one`'s carrier span.
const SCOPE_SPAN_TARGET: &str = "o11y::db::scope";
/// The default name prefix of sqlx's SQLite worker threads.
const SQLITE_WORKER: &str = "sqlx-sqlite-worker";

// ---------------------------------------------------------------------------
// Pools
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
struct Database {
    system: &'static str,
    namespace: Option<String>,
}

static POOLS: RwLock<Vec<Database>> = RwLock::new(Vec::new());

/// Tells o11y which database `pool` talks to, so that the spans of its
/// queries carry `db.system` and `db.namespace` (sqlx's query events name
/// neither). [`refresh_migrations`](super::refresh_migrations) registers
/// its pool too. Registering the same database twice is harmless.
///
/// ```no_run
/// # async fn start() -> Result<(), sqlx::Error> {
/// let pool = sqlx::PgPool::connect("postgres://app@db/shop").await?;
/// o11y_runtime::db::sqlx::register_pool(&pool); // db.system=postgresql, db.namespace=shop
/// # Ok(())
/// # }
/// ```
pub fn register_pool<DB: sqlx::Database>(pool: &sqlx::Pool<DB>) {
    use sqlx::ConnectOptions as _;

    let system = match DB::NAME {
        "PostgreSQL" => "postgresql",
        "SQLite" => "sqlite",
        "MySQL" => "mysql",
        "MSSQL" => "mssql",
        _ => "other_sql",
    };
    let options = pool.connect_options();
    let sqlite =
        (&*options as &dyn std::any::Any).downcast_ref::<sqlx::sqlite::SqliteConnectOptions>();
    let namespace = match sqlite {
        // Not through its URL: sqlx panics writing one for an in-memory
        // database (`sqlite::memory:`, `mode=memory`).
        Some(sqlite) => sqlite_namespace(sqlite.get_filename()),
        None => options
            .to_url_lossy()
            .path()
            .rsplit('/')
            .find(|part| !part.is_empty())
            .map(|name| name.to_owned()),
    };
    let database = Database { system, namespace };
    let mut pools = POOLS.write().unwrap_or_else(|e| e.into_inner());
    if !pools.contains(&database) {
        pools.push(database);
    }
}

/// `db.namespace` of a SQLite database: its file's name; none for an
/// in-memory one, which sqlx names `:memory:` or `file:…`.
fn sqlite_namespace(filename: &std::path::Path) -> Option<String> {
    let text = filename.to_string_lossy();
    if text.is_empty() || text == ":memory:" || text.starts_with("file:") {
        return None;
    }
    filename
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
}

/// `db.system` and `db.namespace` of a statement; see the module docs.
fn database_of(sql: &str, on_sqlite_worker: bool) -> (&'static str, Option<String>) {
    let pools = POOLS.read().unwrap_or_else(|e| e.into_inner());
    let only = |system: &str| {
        let mut of_system = pools.iter().filter(|d| d.system == system);
        match (of_system.next(), of_system.next()) {
            (Some(one), None) => one.namespace.clone(),
            _ => None,
        }
    };
    if on_sqlite_worker {
        return ("sqlite", only("sqlite"));
    }
    let mut others = pools.iter().filter(|d| d.system != "sqlite");
    if let Some(first) = others.next()
        && others.all(|d| d.system == first.system)
    {
        return (first.system, only(first.system));
    }
    if has_numbered_placeholder(sql) {
        return ("postgresql", only("postgresql"));
    }
    ("other_sql", None)
}

fn has_numbered_placeholder(sql: &str) -> bool {
    sql.as_bytes()
        .windows(2)
        .any(|w| w[0] == b'$' && w[1].is_ascii_digit())
}

fn on_sqlite_worker() -> bool {
    std::thread::current()
        .name()
        .is_some_and(|name| name.starts_with(SQLITE_WORKER))
}

// ---------------------------------------------------------------------------
// The bridge layer
// ---------------------------------------------------------------------------

/// Turns sqlx's query events into spans, metrics and N+1 counts, and hands
/// SQLite statements parked on a span to the scope current when the span
/// is next entered or closed.
#[derive(Debug)]
pub(crate) struct SqlxLayer {
    sampler: Sampler,
    sink: Option<super::SpanSinkRef>,
}

impl SqlxLayer {
    pub(crate) fn new(sampler: Sampler, sink: Option<super::SpanSinkRef>) -> Self {
        SqlxLayer { sampler, sink }
    }
}

impl SqlxLayer {
    /// Whether `event` is a query event for the bridge.
    #[inline]
    pub(crate) fn wants_event(event: &Event<'_>) -> bool {
        event.metadata().target() == QUERY_TARGET && !is_export_thread()
    }

    /// Measures a query event (one it [wants](Self::wants_event)), inside
    /// the span whose state is `current`: its metrics, its N+1 scope, its
    /// span.
    pub(crate) fn event(&self, event: &Event<'_>, current: Option<&impl super::QuerySpan>) {
        let mut fields = QueryFields::default();
        event.record(&mut fields);
        let Some(sql) = fields.sql() else { return };
        let elapsed = fields.elapsed;
        let worker = on_sqlite_worker();
        let (system, namespace) = database_of(sql, worker);
        let query = Query {
            system,
            namespace: namespace.as_deref(),
            sql,
            elapsed,
            end: SystemTime::now(),
            rows: Some(fields.rows_returned),
            error: None,
            source: None,
        };
        let statement = query::measure(&query);
        let time = QueryTime {
            elapsed,
            end: query.end,
        };
        if !scope::record(&statement, time, None)
            && worker
            && let Some(span) = current
        {
            // SQLite's worker thread: the scope is found through the
            // caller's span, on the caller's side. (Elsewhere, no scope
            // means the query belongs to none.)
            span.with_parts(|_, waiting| pending::park(waiting, statement.clone(), time));
        }
        if flags() & TRACING != 0 {
            finished::export(
                &self.sampler,
                self.sink.as_deref(),
                current.and_then(|span| span.with_parts(|trace, _| finished::Parent::of(trace))),
                settings::trace_root_queries(),
                query::span(&query, &statement),
            );
        }
    }

    /// Counts the queries waiting on a span entered or closed on the
    /// caller's side.
    #[inline]
    pub(crate) fn deliver(waiting: &mut super::Waiting) {
        pending::deliver(waiting);
    }
}

/// The fields of a `sqlx::query` event.
#[derive(Default)]
struct QueryFields {
    summary: String,
    statement: String,
    rows_returned: u64,
    elapsed: Duration,
}

impl QueryFields {
    /// The statement: sqlx puts it in `db.statement` (between blank lines)
    /// unless it equals its `summary` (its first four words).
    fn sql(&self) -> Option<&str> {
        let statement = self.statement.trim_matches('\n');
        if !statement.is_empty() {
            return Some(statement);
        }
        let summary = self.summary.as_str();
        (!summary.is_empty() && !summary.ends_with(" …")).then_some(summary)
    }
}

impl Visit for QueryFields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "summary" => value.clone_into(&mut self.summary),
            "db.statement" => value.clone_into(&mut self.statement),
            _ => {}
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "rows_returned" {
            self.rows_returned = value;
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if field.name() == "rows_returned" {
            self.rows_returned = u64::try_from(value).unwrap_or(0);
        }
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if field.name() == "elapsed_secs" {
            self.elapsed = Duration::try_from_secs_f64(value).unwrap_or_default();
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        // `summary` and `db.statement` are Strings, recorded as such; a
        // Debug form would be quoted.
        if matches!(field.name(), "summary" | "db.statement") {
            let text = format!("{value:?}");
            let text = text
                .strip_prefix('"')
                .and_then(|t| t.strip_suffix('"'))
                .unwrap_or(&text)
                .to_owned();
            self.record_str(field, &text);
        }
    }
}

// ---------------------------------------------------------------------------
// The filter
// ---------------------------------------------------------------------------

thread_local! {
    /// Whether the configured filter wants the `sqlx::query` event being
    /// dispatched on this thread (set by [`QueryEventFilter::enabled`]).
    static USER_WANTS: Cell<bool> = const { Cell::new(true) };
}

/// Whether an event is a `sqlx::query` event that only the bridge wants:
/// the log and span layers skip it.
#[inline]
pub(crate) fn only_for_bridge(metadata: &Metadata<'_>) -> bool {
    metadata.target() == QUERY_TARGET && !USER_WANTS.try_with(Cell::get).unwrap_or(true)
}

fn admitted(metadata: &Metadata<'_>) -> bool {
    matches!(metadata.target(), QUERY_TARGET | SCOPE_SPAN_TARGET)
}

/// `logging.level`'s filter, letting through, whatever it says, sqlx's
/// query events (noting whether it wanted them) and the carrier span of
/// `assert_no_n_plus_one`.
#[derive(Debug)]
pub(crate) struct QueryEventFilter {
    filter: LevelDirectives,
}

impl QueryEventFilter {
    pub(crate) fn new(filter: LevelDirectives) -> Self {
        QueryEventFilter { filter }
    }
}

impl<S: Subscriber> Layer<S> for QueryEventFilter {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        let interest = Layer::<S>::register_callsite(&self.filter, metadata);
        if admitted(metadata) {
            Interest::sometimes()
        } else {
            interest
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>, ctx: Context<'_, S>) -> bool {
        let wanted = Layer::<S>::enabled(&self.filter, metadata, ctx);
        if admitted(metadata) {
            if metadata.target() == QUERY_TARGET {
                let _ = USER_WANTS.try_with(|w| w.set(wanted));
            }
            return true;
        }
        wanted
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        // sqlx logs statements at DEBUG by default.
        let configured = Layer::<S>::max_level_hint(&self.filter).unwrap_or(LevelFilter::TRACE);
        Some(configured.max(LevelFilter::DEBUG))
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        self.filter.on_new_span(attrs, id, ctx);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        self.filter.on_record(id, values, ctx);
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        self.filter.on_enter(id, ctx);
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        self.filter.on_exit(id, ctx);
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        self.filter.on_close(id, ctx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_statement_comes_from_db_statement_or_the_summary() {
        let long = QueryFields {
            summary: "SELECT * FROM orders …".into(),
            statement: "\n\nSELECT * FROM orders WHERE id = $1\n".into(),
            ..QueryFields::default()
        };
        assert_eq!(long.sql(), Some("SELECT * FROM orders WHERE id = $1"));
        let short = QueryFields {
            summary: "SELECT 1".into(),
            ..QueryFields::default()
        };
        assert_eq!(short.sql(), Some("SELECT 1"));
        assert_eq!(QueryFields::default().sql(), None);
    }

    #[test]
    fn numbered_placeholders_mean_postgresql() {
        assert!(has_numbered_placeholder("SELECT * FROM t WHERE id = $1"));
        assert!(!has_numbered_placeholder("SELECT * FROM t WHERE id = ?"));
        assert!(!has_numbered_placeholder("SELECT $$x$$"));
    }

    #[test]
    fn a_sqlite_database_is_named_by_its_file_and_an_in_memory_one_not_at_all() {
        use std::path::Path;
        assert_eq!(
            sqlite_namespace(Path::new("/var/lib/shop.db")).as_deref(),
            Some("shop.db")
        );
        assert_eq!(
            sqlite_namespace(Path::new("shop.db")).as_deref(),
            Some("shop.db")
        );
        assert_eq!(sqlite_namespace(Path::new(":memory:")), None);
        assert_eq!(sqlite_namespace(Path::new("file:sqlx-in-memory-3")), None);
    }

    #[test]
    fn in_memory_sqlite_pools_register_without_a_namespace() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        // sqlx itself panics writing the URL of these (`to_url_lossy`).
        for url in [
            "sqlite::memory:",
            "sqlite://:memory:",
            "sqlite:file:o11y-unit?mode=memory&cache=shared",
        ] {
            let pool = runtime
                .block_on(sqlx::SqlitePool::connect(url))
                .unwrap_or_else(|e| panic!("{url}: {e}"));
            register_pool(&pool);
        }
        let pools = POOLS.read().unwrap();
        assert!(pools.contains(&Database {
            system: "sqlite",
            namespace: None,
        }));
        assert!(
            !pools
                .iter()
                .any(|d| d.namespace.as_deref().is_some_and(|n| n.contains("memory"))),
            "{pools:?}"
        );
    }
}
