//! sqlx on PostgreSQL 15 (a throw-away cluster per test, `common::Postgres`),
//! through the public API and real peers (rotel, Prometheus): query spans
//! with OpenTelemetry's attributes and no literal values; the N+1 of a loop
//! in an observed function flagged once, with its fingerprint and count;
//! nothing flagged below the threshold or for one joined query;
//! `assert_no_n_plus_one` passing and failing; migration gauges before and
//! after a pending migration, scraped by Prometheus.
#![cfg(all(feature = "sqlx", not(feature = "off")))]

use o11y_test_support as common;
mod sqlx_scenarios;

scenarios! {
    db: sqlx::Postgres,
    peer: common::Postgres::start(),
    connect: |postgres| async move {
        sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            .connect(&postgres.url())
            .await
            .expect("connect to PostgreSQL")
    },
    system: "postgresql",
    namespace: Some("o11y_test"),
}
