//! What the database integration costs per query (group `db`):
//!
//! - `detector_cached_statement`: the N+1 detector's cost for a statement
//!   seen before: hash the text, find its fingerprint in the cache, count
//!   it in the current scope (the bar: ≤ 1 µs);
//! - `detector_cached_statement_1kib`: the same for a 1 KiB statement (the
//!   hash grows with the text);
//! - `fingerprint_uncached`: normalising that first statement, what the
//!   cache saves;
//! - `record_query_recorded`: a whole `record_query` with o11y's layer
//!   active (metrics, and a CLIENT span recorded and exported into an
//!   in-process sink).
//!
//! ```text
//! cargo bench --bench db
//! ```

use std::hint::black_box;
use std::time::Duration;

// Only the o11y dispatcher is used here.
#[allow(dead_code)]
mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use o11y::db::{Scope, fingerprint, record_query};

const SQL: &str =
    "SELECT i.sku, i.qty, i.price FROM items i WHERE i.order_id = 42 AND i.deleted_at IS NULL";

fn long_sql() -> String {
    let mut sql = String::from("SELECT id, sku, qty FROM items WHERE order_id = 7");
    while sql.len() < 1024 {
        sql.push_str(" AND sku <> 'excluded'");
    }
    sql
}

fn db(c: &mut Criterion) {
    let mut group = c.benchmark_group("db");
    let elapsed = Duration::from_micros(250);

    // o11y not initialised: no metrics, no span; the detector only.
    let mut scope = Scope::new("bench");
    scope.in_scope(|| {
        group.bench_function("detector_cached_statement", |b| {
            b.iter(|| record_query("postgresql", black_box(SQL), elapsed, Some(1)))
        });
        let long = long_sql();
        group.bench_function("detector_cached_statement_1kib", |b| {
            b.iter(|| record_query("postgresql", black_box(&long), elapsed, Some(1)))
        });
    });
    drop(scope);

    group.bench_function("fingerprint_uncached", |b| {
        b.iter(|| fingerprint(black_box(SQL)))
    });

    let (dispatch, _guard) = common::o11y_dispatch(true, 1.0);
    tracing::dispatcher::with_default(&dispatch, || {
        let span = tracing::info_span!("request");
        let _entered = span.enter();
        let mut scope = Scope::new("bench_recorded");
        scope.in_scope(|| {
            group.bench_function("record_query_recorded", |b| {
                b.iter(|| record_query("postgresql", black_box(SQL), elapsed, Some(1)))
            });
        });
    });
    group.finish();
}

criterion_group!(benches, db);
criterion_main!(benches);
