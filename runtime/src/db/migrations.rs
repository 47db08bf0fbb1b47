//! Migration gauges: `db_migrations_applied{database}` and
//! `db_migrations_pending{database}`, from sqlx's migrator against its
//! `_sqlx_migrations` table (feature `sqlx`), or from counts you give.
//! Refreshed when asked: call it at start-up (so a pending migration shows
//! on the first scrape) and after migrating.

use crate::metrics::register_own_metric;
use crate::metrics::{GaugeVec, MetricDesc};

static APPLIED: GaugeVec<1> = GaugeVec::new(
    MetricDesc::gauge(
        "db_migrations_applied",
        "Database migrations applied, by database",
    )
    .labels(&["database"]),
);
static PENDING: GaugeVec<1> = GaugeVec::new(
    MetricDesc::gauge(
        "db_migrations_pending",
        "Database migrations the application has that are not applied yet, by database",
    )
    .labels(&["database"]),
);
register_own_metric!(APPLIED);
register_own_metric!(PENDING);

/// How many migrations a database has applied, and how many of the
/// application's are still pending.
///
/// ```
/// let counts = o11y_runtime::db::MigrationCounts::new(3, 1);
/// assert_eq!((counts.applied, counts.pending), (3, 1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct MigrationCounts {
    /// Migrations recorded as applied in the database.
    pub applied: u64,
    /// Migrations of the application not applied yet.
    pub pending: u64,
}

impl MigrationCounts {
    /// Counts to give to [`set_migration_counts`] (see the type's example).
    pub fn new(applied: u64, pending: u64) -> Self {
        MigrationCounts { applied, pending }
    }
}

/// Sets the migration gauges of `database` (a name of your choosing, the
/// `database` label), for migration tools other than sqlx's.
///
/// ```
/// use o11y_runtime::db::{MigrationCounts, set_migration_counts};
///
/// set_migration_counts("main", MigrationCounts::new(12, 1));
/// let exposition = o11y_runtime::metrics::render(o11y_runtime::metrics::Format::Prometheus);
/// assert!(exposition.contains(r#"db_migrations_pending{database="main"} 1"#));
/// ```
pub fn set_migration_counts(database: &str, counts: MigrationCounts) {
    // Gauges are f64: exact for any realistic number of migrations.
    APPLIED.labels([database]).set(counts.applied as f64);
    PENDING.labels([database]).set(counts.pending as f64);
}

/// Counts the migrations of `migrator` that `pool`'s database has applied
/// (rows of `_sqlx_migrations`; none when the table does not exist yet)
/// and those still pending, sets `db_migrations_applied{database}` and
/// `db_migrations_pending{database}`, and returns the counts. Reads only:
/// nothing is created or migrated.
///
/// ```no_run
/// # async fn start() -> Result<(), Box<dyn std::error::Error>> {
/// let pool = sqlx::SqlitePool::connect("sqlite://shop.db").await?;
/// let migrator = sqlx::migrate::Migrator::new(std::path::Path::new("./migrations")).await?;
/// o11y_runtime::db::refresh_migrations(&pool, &migrator, "shop").await?; // pending: visible now
/// migrator.run(&pool).await?;
/// o11y_runtime::db::refresh_migrations(&pool, &migrator, "shop").await?; // pending: 0
/// # Ok(())
/// # }
/// ```
#[cfg(feature = "sqlx")]
pub async fn refresh_migrations<DB>(
    pool: &sqlx::Pool<DB>,
    migrator: &sqlx::migrate::Migrator,
    database: &str,
) -> Result<MigrationCounts, sqlx::migrate::MigrateError>
where
    DB: sqlx::Database,
    DB::Connection: sqlx::migrate::Migrate,
{
    use sqlx::migrate::Migrate as _;

    crate::db::sqlx::register_pool(pool);
    let mut connection = pool.acquire().await?;
    let applied = match connection.list_applied_migrations().await {
        Ok(applied) => applied,
        Err(error) if is_missing_table(&error) => Vec::new(),
        Err(error) => return Err(error),
    };
    drop(connection);
    let versions: std::collections::HashSet<i64> = applied.iter().map(|m| m.version).collect();
    let pending = migrator
        .iter()
        .filter(|m| !m.migration_type.is_down_migration() && !versions.contains(&m.version))
        .count();
    let counts = MigrationCounts {
        applied: applied.len() as u64,
        pending: pending as u64,
    };
    set_migration_counts(database, counts);
    Ok(counts)
}

/// `_sqlx_migrations` does not exist: nothing was ever migrated.
#[cfg(feature = "sqlx")]
fn is_missing_table(error: &sqlx::migrate::MigrateError) -> bool {
    let sqlx::migrate::MigrateError::Execute(sqlx::Error::Database(error)) = error else {
        return false;
    };
    // PostgreSQL: undefined_table; MySQL: its SQLSTATE (what sqlx's
    // `code()` gives) or ER_NO_SUCH_TABLE; SQLite: by message.
    matches!(error.code().as_deref(), Some("42P01" | "42S02" | "1146"))
        || error.message().contains("no such table")
}
