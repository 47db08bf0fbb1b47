//! sqlx on SQLite (bundled), through the public API and real peers (rotel,
//! Prometheus): query spans with OpenTelemetry's attributes and no literal
//! values; the N+1 of a loop in an observed function flagged once, with its
//! fingerprint and count; nothing flagged below the threshold or for one
//! joined query; `assert_no_n_plus_one` passing and failing; migration
//! gauges before and after a pending migration, scraped by Prometheus.
//!
//! SQLite runs statements on sqlx's worker threads: these tests are also
//! the ones that show queries find their scope from there.
#![cfg(all(feature = "sqlx", not(feature = "off")))]

use o11y_test_support as common;
mod sqlx_scenarios;

/// A directory for the database file (each process its own).
fn sqlite_dir() -> Option<tempfile::TempDir> {
    Some(tempfile::tempdir().expect("tempdir"))
}

scenarios! {
    db: sqlx::Sqlite,
    peer: sqlite_dir(),
    connect: |dir| async move {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(dir.path().join("shop.db"))
            .create_if_missing(true);
        sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(options)
            .await
            .expect("open the SQLite database")
    },
    system: "sqlite",
    namespace: Some("shop.db"),
}
