//! The sqlx scenarios run against each database (`tests/db_sqlite.rs`,
//! `tests/db_postgres.rs`): [`scenarios!`] expands to the test functions,
//! given the sqlx database type, how a child connects, and what the spans
//! should say of the database.
//!
//! The shop: 10 orders with 2 items each. `list_orders` loads the orders,
//! then each order's items in a loop (the N+1, with the order id and a
//! literal inlined in the statement); `list_orders_joined` loads them in
//! one join; `first_orders` loops over 4 orders only (below the default
//! threshold of 5).

/// The fingerprint of `list_orders`'s repeated statement.
pub const ITEMS_FINGERPRINT: &str = "SELECT sku, qty FROM items WHERE order_id = ? AND sku <> ?";
/// A literal of every statement the scenarios run: must never reach a span.
pub const LITERAL: &str = "hidden-sku";

pub const SCHEMA: &[&str] = &[
    "CREATE TABLE orders (id BIGINT PRIMARY KEY, customer TEXT NOT NULL)",
    "CREATE TABLE items (id BIGINT PRIMARY KEY, order_id BIGINT NOT NULL, sku TEXT NOT NULL, qty BIGINT NOT NULL)",
];

/// The shop's rows, one statement each (values inlined: no driver-specific
/// placeholders).
pub fn rows() -> Vec<String> {
    let mut statements = Vec::new();
    for order in 1..=10 {
        statements.push(format!(
            "INSERT INTO orders (id, customer) VALUES ({order}, 'customer-{order}')"
        ));
        for item in 0..2 {
            let id = order * 10 + item;
            statements.push(format!(
                "INSERT INTO items (id, order_id, sku, qty) VALUES ({id}, {order}, 'sku-{id}', {item} + 1)"
            ));
        }
    }
    statements
}

/// One order's items, as a naive loop asks for them.
pub fn items_of(order: i64) -> String {
    format!("SELECT sku, qty FROM items WHERE order_id = {order} AND sku <> '{LITERAL}'")
}

pub const JOINED: &str = "SELECT o.id, i.sku, i.qty FROM orders o JOIN items i ON i.order_id = o.id \
     WHERE i.sku <> 'hidden-sku' ORDER BY o.id";

/// Migrations of the migration scenario: written to `dir`; the first
/// `count` of them.
pub fn write_migrations(dir: &std::path::Path, count: usize) {
    std::fs::create_dir_all(dir).expect("migrations dir");
    let all = [
        (
            "1_create_customers.sql",
            "CREATE TABLE customers (id BIGINT PRIMARY KEY, name TEXT NOT NULL);",
        ),
        (
            "2_add_customer_email.sql",
            "ALTER TABLE customers ADD COLUMN email TEXT;",
        ),
    ];
    for (name, sql) in all.iter().take(count) {
        std::fs::write(dir.join(name), sql).expect("write migration");
    }
}

/// The test functions, for one database.
///
/// - `db`: the sqlx database type;
/// - `peer`: run first in parent and child, what `connect` needs (`None`:
///   the peer is missing, skip);
/// - `connect`: a future building the pool, from `&peer` bound to the name
///   given;
/// - `system` / `namespace`: what the spans' `db.system` and `db.namespace`
///   should be.
#[macro_export]
macro_rules! scenarios {
    (
        db: $db:ty,
        peer: $peer:expr,
        connect: |$p:ident| $connect:expr,
        system: $system:expr,
        namespace: $namespace:expr $(,)?
    ) => {
        use std::time::Duration;

        use common::scenario::{json_lines, o11y_child, report, reported, span_named};
        use common::server::runtime;
        use serde_json::{Value, json};
        use sqlx_scenarios::{
            ITEMS_FINGERPRINT, JOINED, LITERAL, SCHEMA, items_of, rows, write_migrations,
        };

        type Pool = sqlx::Pool<$db>;

        /// Registers the pool (db.system, db.namespace) and fills the shop.
        async fn shop(pool: &Pool) {
            o11y::db::sqlx::register_pool(pool);
            for statement in SCHEMA.iter().map(|s| s.to_string()).chain(rows()) {
                sqlx::query::<$db>(&statement)
                    .execute(pool)
                    .await
                    .unwrap_or_else(|e| panic!("{statement}: {e}"));
            }
        }

        /// In a child named `test`, exporting to `endpoint` with
        /// `db.trace_root_queries = root`: fills the shop outside any span,
        /// runs the joined query in an observed function, and reports the
        /// Prometheus exposition as `metrics`.
        fn shop_then_joined<F: std::future::Future<Output = Pool>>(
            test: &str,
            endpoint: String,
            root: &str,
            connect: impl FnOnce() -> F,
        ) -> common::ChildOutput {
            o11y_child(test)
                .env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
                .env("O11Y_DB_TRACE_ROOT_QUERIES", root)
                .run(|| {
                    let guard = o11y::init().expect("init");
                    let runtime = runtime();
                    runtime.block_on(async {
                        let pool: Pool = connect().await;
                        shop(&pool).await;
                        assert_eq!(list_orders_joined(&pool).await, 20);
                        pool.close().await;
                    });
                    report(
                        "metrics",
                        json!(o11y::metrics::render(o11y::metrics::Format::Prometheus)),
                    );
                    drop(runtime);
                    drop(guard);
                })
        }

        /// The N+1: one query per order.
        #[o11y::observe]
        async fn list_orders(pool: &Pool) -> usize {
            items_one_order_at_a_time(pool).await
        }

        /// The N+1 itself, in no observed function.
        async fn items_one_order_at_a_time(pool: &Pool) -> usize {
            let orders: Vec<i64> =
                sqlx::query_scalar::<$db, i64>("SELECT id FROM orders ORDER BY id")
                    .fetch_all(pool)
                    .await
                    .expect("orders");
            let mut items = 0;
            for order in orders {
                items += sqlx::query::<$db>(&items_of(order))
                    .fetch_all(pool)
                    .await
                    .expect("items")
                    .len();
            }
            items
        }

        /// The fix: one join.
        #[o11y::observe]
        async fn list_orders_joined(pool: &Pool) -> usize {
            sqlx::query::<$db>(JOINED)
                .fetch_all(pool)
                .await
                .expect("joined")
                .len()
        }

        /// Four repeated queries: below the threshold.
        #[o11y::observe]
        async fn first_orders(pool: &Pool) -> usize {
            let mut items = 0;
            for order in 1..=4 {
                items += sqlx::query::<$db>(&items_of(order))
                    .fetch_all(pool)
                    .await
                    .expect("items")
                    .len();
            }
            items
        }

        fn n_plus_one_lines(lines: &[Value]) -> Vec<&Value> {
            lines
                .iter()
                .filter(|line| line["event"] == "n_plus_one_detected")
                .collect()
        }

        fn fn_span(function: &str) -> String {
            format!("{}::{function}", module_path!())
        }

        #[test]
        fn query_spans_reach_rotel_without_literals() {
            let Some(peer) = $peer else { return };
            let Some(rotel) = common::Rotel::start() else {
                return;
            };
            // The shop's inserts run outside any span: traces of their own
            // only when asked.
            shop_then_joined(
                "query_spans_reach_rotel_without_literals",
                rotel.grpc_endpoint(),
                "true",
                || {
                    let $p = &peer;
                    $connect
                },
            );
            let joined = fn_span("list_orders_joined");
            let spans = rotel.wait_for_spans(Duration::from_secs(15), |spans| {
                spans.iter().any(|s| s["name"] == joined)
                    && spans.iter().any(|s| s["name"] == "SELECT")
            });
            let parent = span_named(&spans, &joined);
            let query = spans
                .iter()
                .find(|s| s["parent_span_id"] == parent["span_id"])
                .unwrap_or_else(|| panic!("no child of {joined}: {spans:#?}"));
            assert_eq!(query["kind"], "client", "{query}");
            assert_eq!(
                query["name"], "SELECT",
                "a join names no single table: {query}"
            );
            assert_eq!(query["trace_id"], parent["trace_id"], "{query}");
            let attributes = &query["attributes"];
            assert_eq!(attributes["db.system"], $system, "{query}");
            if let Some(namespace) = $namespace {
                assert_eq!(attributes["db.namespace"], namespace, "{query}");
            }
            assert_eq!(attributes["db.operation.name"], "SELECT", "{query}");
            assert_eq!(
                attributes["db.query.text"],
                "SELECT o.id, i.sku, i.qty FROM orders o JOIN items i ON i.order_id = o.id \
                 WHERE i.sku <> ? ORDER BY o.id",
                "{query}"
            );
            assert_eq!(attributes["db.response.returned_rows"], 20, "{query}");
            // start = end - elapsed, within the observed call.
            let time = |span: &Value, key: &str| -> u64 {
                span[key]
                    .as_u64()
                    .or_else(|| span[key].as_str().and_then(|s| s.parse().ok()))
                    .unwrap_or_else(|| panic!("{key} of {span}"))
            };
            let (start, end) = (
                time(query, "start_time_unix_nano"),
                time(query, "end_time_unix_nano"),
            );
            assert!(start < end, "{query}");
            let slack = 2_000_000; // 2 ms: two clocks are read
            assert!(
                start + slack >= time(parent, "start_time_unix_nano"),
                "{query}\n{parent}"
            );
            assert!(
                end <= time(parent, "end_time_unix_nano") + slack,
                "{query}\n{parent}"
            );

            // The inserts, a table each, are spans too; no literal anywhere.
            let insert = spans
                .iter()
                .find(|s| s["name"] == "INSERT items")
                .unwrap_or_else(|| panic!("no INSERT items span: {spans:#?}"));
            assert_eq!(
                insert["attributes"]["db.collection.name"], "items",
                "{insert}"
            );
            assert_eq!(
                insert["attributes"]["db.query.text"],
                "INSERT INTO items (id, order_id, sku, qty) VALUES (?, ?, ?, ? + ?)",
                "{insert}"
            );
            let everything = Value::from(spans.clone()).to_string();
            for literal in [LITERAL, "customer-7", "sku-42"] {
                assert!(
                    !everything.contains(literal),
                    "{literal} leaked into a span"
                );
            }
        }

        /// By default a query outside any span (the shop's schema and rows,
        /// as an application's start-up would run them) is counted in the
        /// metrics but is no trace of its own; queries inside a span are
        /// still its children.
        #[test]
        fn queries_outside_any_span_are_counted_not_traced() {
            let Some(peer) = $peer else { return };
            let Some(rotel) = common::Rotel::start() else {
                return;
            };
            let output = shop_then_joined(
                "queries_outside_any_span_are_counted_not_traced",
                rotel.grpc_endpoint(),
                "false",
                || {
                    let $p = &peer;
                    $connect
                },
            );
            let joined = fn_span("list_orders_joined");
            rotel.wait_for_spans(Duration::from_secs(15), |spans| {
                spans.iter().any(|s| s["name"] == joined)
                    && spans.iter().any(|s| s["name"] == "SELECT")
            });
            // rotel batches: what else was sent has arrived by now.
            std::thread::sleep(Duration::from_millis(500));
            let spans = rotel.spans();
            let parent = span_named(&spans, &joined);
            let clients: Vec<&Value> = spans.iter().filter(|s| s["kind"] == "client").collect();
            assert_eq!(clients.len(), 1, "only the joined query: {clients:#?}");
            assert_eq!(
                clients[0]["parent_span_id"], parent["span_id"],
                "{spans:#?}"
            );
            let metrics = reported(&output, "metrics");
            let metrics = metrics.as_str().unwrap();
            let inserts = common::exposition::sample_value(
                metrics,
                "db_client_queries_total",
                &[
                    ("db_system", $system),
                    ("db_operation_name", "INSERT"),
                    ("result", "ok"),
                ],
            );
            let rows = rows().len() as f64;
            assert!(
                inserts.is_some_and(|n| n >= rows),
                "{rows} inserts: {metrics}"
            );
        }

        #[test]
        fn n_plus_one_is_flagged_once_with_fingerprint_and_count() {
            let Some(peer) = $peer else { return };
            let Some(rotel) = common::Rotel::start() else {
                return;
            };
            let output = o11y_child("n_plus_one_is_flagged_once_with_fingerprint_and_count")
                .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
                .run(|| {
                    let guard = o11y::init().expect("init");
                    let runtime = runtime();
                    runtime.block_on(async {
                        let $p = &peer;
                        let pool: Pool = $connect.await;
                        shop(&pool).await;
                        assert_eq!(list_orders(&pool).await, 20);
                        pool.close().await;
                    });
                    drop(runtime);
                    report(
                        "metrics",
                        json!(o11y::metrics::render(o11y::metrics::Format::Prometheus)),
                    );
                    drop(guard);
                });
            let lines = json_lines(&output);
            // The bridge saw sqlx's DEBUG events; `info` kept them out of the log.
            assert!(
                !lines.iter().any(|line| line["logger"] == "sqlx::query"),
                "{lines:#?}"
            );
            let detected = n_plus_one_lines(&lines);
            assert_eq!(detected.len(), 1, "{detected:#?}");
            let line = detected[0];
            assert_eq!(line["level"], "warn", "{line}");
            assert_eq!(line["logger"], "o11y::db", "{line}");
            assert_eq!(line["fingerprint"], ITEMS_FINGERPRINT, "{line}");
            assert_eq!(line["count"], 10, "{line}");
            assert_eq!(line["scope"], "list_orders", "{line}");
            assert!(
                line["duration_ms"].as_f64().is_some_and(|ms| ms > 0.0),
                "{line}"
            );

            let metrics = reported(&output, "metrics");
            let metrics = metrics.as_str().unwrap();
            assert_eq!(
                common::exposition::sample_value(
                    metrics,
                    "db_n_plus_one_total",
                    &[("scope", "list_orders")]
                ),
                Some(1.0),
                "{metrics}"
            );
            let selects = common::exposition::sample_value(
                metrics,
                "db_client_queries_total",
                &[
                    ("db_system", $system),
                    ("db_operation_name", "SELECT"),
                    ("result", "ok"),
                ],
            );
            assert!(selects.is_some_and(|n| n >= 11.0), "{metrics}");

            let name = fn_span("list_orders");
            let spans = rotel.wait_for_spans(Duration::from_secs(15), |spans| {
                spans.iter().any(|s| s["name"] == name)
            });
            let span = span_named(&spans, &name);
            // The warning was logged in the function's span.
            assert_eq!(line["span_id"], span["span_id"], "{line}\n{span}");
            let attributes = &span["attributes"];
            assert_eq!(attributes["db.n_plus_one.detected"], true, "{span}");
            assert_eq!(
                attributes["db.n_plus_one.fingerprint"], ITEMS_FINGERPRINT,
                "{span}"
            );
            assert_eq!(attributes["db.n_plus_one.count"], 10, "{span}");
            assert_eq!(attributes["db.query_count"], 11, "{span}");
            assert!(
                attributes["db.n_plus_one.duration_ms"].as_f64().is_some(),
                "{span}"
            );
            let children = spans
                .iter()
                .filter(|s| s["parent_span_id"] == span["span_id"] && s["kind"] == "client")
                .count();
            assert_eq!(children, 11, "one CLIENT span per query");
        }

        /// A scope of the application's own, with a span: its queries are
        /// its own, the SQLite ones run on sqlx's worker threads too.
        #[test]
        fn a_scope_with_a_span_sees_its_queries() {
            let Some(peer) = $peer else { return };
            let output = o11y_child("a_scope_with_a_span_sees_its_queries").run(|| {
                let guard = o11y::init().expect("init");
                let runtime = runtime();
                let detections = runtime.block_on(async {
                    let $p = &peer;
                    let pool: Pool = $connect.await;
                    shop(&pool).await;
                    let span = tracing::info_span!("nightly_job");
                    let mut scope = o11y::db::Scope::new("nightly_job").with_span(span);
                    // Each poll in the scope, as a tower middleware would.
                    let mut work = std::pin::pin!(items_one_order_at_a_time(&pool));
                    let items =
                        std::future::poll_fn(|cx| scope.in_scope(|| work.as_mut().poll(cx))).await;
                    assert_eq!(items, 20);
                    let report = scope.finish();
                    pool.close().await;
                    report
                        .detections()
                        .iter()
                        .map(|d| json!([d.scope, d.fingerprint, d.count]))
                        .collect::<Vec<_>>()
                });
                report("detections", json!(detections));
                drop(runtime);
                drop(guard);
            });
            assert_eq!(
                reported(&output, "detections"),
                json!([["nightly_job", ITEMS_FINGERPRINT, 10]])
            );
        }

        #[test]
        fn below_the_threshold_or_joined_nothing_is_flagged() {
            let Some(peer) = $peer else { return };
            let Some(rotel) = common::Rotel::start() else {
                return;
            };
            let output = o11y_child("below_the_threshold_or_joined_nothing_is_flagged")
                .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
                // Asked for: sqlx's own query lines are printed too.
                .env("O11Y_LOGGING_LEVEL", "info,sqlx::query=debug")
                .run(|| {
                    let guard = o11y::init().expect("init");
                    let runtime = runtime();
                    runtime.block_on(async {
                        let $p = &peer;
                        let pool: Pool = $connect.await;
                        shop(&pool).await;
                        assert_eq!(first_orders(&pool).await, 8);
                        assert_eq!(list_orders_joined(&pool).await, 20);
                        pool.close().await;
                    });
                    drop(runtime);
                    report(
                        "metrics",
                        json!(o11y::metrics::render(o11y::metrics::Format::Prometheus)),
                    );
                    drop(guard);
                });
            let lines = json_lines(&output);
            assert!(n_plus_one_lines(&lines).is_empty(), "{lines:#?}");
            let sqlx_lines = lines
                .iter()
                .filter(|line| line["logger"] == "sqlx::query")
                .count();
            assert!(
                sqlx_lines >= 5,
                "sqlx's query lines were asked for: {lines:#?}"
            );
            let metrics = reported(&output, "metrics");
            assert!(
                !metrics.as_str().unwrap().contains("db_n_plus_one_total{"),
                "{metrics}"
            );
            let (first, joined) = (fn_span("first_orders"), fn_span("list_orders_joined"));
            let spans = rotel.wait_for_spans(Duration::from_secs(15), |spans| {
                spans.iter().any(|s| s["name"] == first)
                    && spans.iter().any(|s| s["name"] == joined)
            });
            for (name, queries) in [(&first, 4), (&joined, 1)] {
                let span = span_named(&spans, name);
                assert_eq!(span["attributes"]["db.query_count"], queries, "{span}");
                assert!(
                    span["attributes"].get("db.n_plus_one.detected").is_none(),
                    "{span}"
                );
            }
        }

        #[test]
        fn assert_no_n_plus_one_passes_and_fails() {
            let Some(peer) = $peer else { return };
            let output = o11y_child("assert_no_n_plus_one_passes_and_fails").run(|| {
                let guard = o11y::init().expect("init");
                let runtime = runtime();
                let pool: Pool = runtime.block_on(async {
                    let $p = &peer;
                    let pool: Pool = $connect.await;
                    shop(&pool).await;
                    pool
                });
                // One join: passes, and returns what the future returned.
                let joined = runtime.block_on(o11y::db::assert_no_n_plus_one_async(
                    list_orders_joined(&pool),
                ));
                assert_eq!(joined, 20);
                // Below the threshold: passes.
                runtime.block_on(o11y::db::assert_no_n_plus_one_async(first_orders(&pool)));

                let failure =
                    |future: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + '_>>| {
                        let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            runtime.block_on(o11y::db::assert_no_n_plus_one_async(future))
                        }))
                        .expect_err("an N+1 must fail the assertion");
                        panic
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                            .expect("a message")
                    };
                // The loop in an observed function: that function is named.
                let message = failure(Box::pin(async {
                    assert_eq!(list_orders(&pool).await, 20);
                }));
                report("nested", json!(message));
                // The loop right in the closure: the assertion's own scope.
                let message = failure(Box::pin(async {
                    for order in 1..=6 {
                        sqlx::query::<$db>(&items_of(order))
                            .fetch_all(&pool)
                            .await
                            .expect("items");
                    }
                }));
                report("inline", json!(message));
                runtime.block_on(pool.close());
                drop(guard);
            });
            let nested = reported(&output, "nested");
            let nested = nested.as_str().unwrap();
            assert!(
                nested.contains(&format!("10 × `{ITEMS_FINGERPRINT}` in list_orders")),
                "{nested}"
            );
            assert!(
                nested.starts_with("N+1 queries detected: 1 N+1 query pattern(s) detected:"),
                "{nested}"
            );
            let inline = reported(&output, "inline");
            let inline = inline.as_str().unwrap();
            assert!(
                inline.contains(&format!(
                    "6 × `{ITEMS_FINGERPRINT}` in assert_no_n_plus_one"
                )),
                "{inline}"
            );
        }

        #[test]
        fn migration_gauges_follow_a_pending_migration() {
            let Some(peer) = $peer else { return };
            let Some(prometheus) = common::Prometheus::start() else {
                return;
            };
            o11y_child("migration_gauges_follow_a_pending_migration")
                .timeout(Duration::from_secs(120))
                .run(|| {
                    let guard = o11y::init().expect("init");
                    let metrics = o11y::metrics::serve("127.0.0.1:0").expect("serve");
                    let target = metrics.local_addr().to_string();
                    let dir = tempfile::tempdir().expect("tempdir");
                    let (first_dir, all_dir) = (dir.path().join("first"), dir.path().join("all"));
                    write_migrations(&first_dir, 1);
                    write_migrations(&all_dir, 2);
                    let runtime = runtime();
                    let (pool, all) = runtime.block_on(async {
                        let $p = &peer;
                        let pool: Pool = $connect.await;
                        let first = sqlx::migrate::Migrator::new(first_dir.as_path())
                            .await
                            .expect("first");
                        let all = sqlx::migrate::Migrator::new(all_dir.as_path())
                            .await
                            .expect("all");
                        // Never migrated: no _sqlx_migrations table yet.
                        let counts = o11y::db::refresh_migrations(&pool, &all, "shop")
                            .await
                            .expect("refresh");
                        assert_eq!((counts.applied, counts.pending), (0, 2));
                        first.run(&pool).await.expect("first migration");
                        let counts = o11y::db::refresh_migrations(&pool, &all, "shop")
                            .await
                            .expect("refresh");
                        assert_eq!((counts.applied, counts.pending), (1, 1));
                        (pool, all)
                    });

                    let gauge =
                        |name: &str| format!("{name}{{instance=\"{target}\",database=\"shop\"}}");
                    let is = |value: &'static str| {
                        move |result: &[Value]| result.len() == 1 && result[0]["value"][1] == value
                    };
                    let wait = Duration::from_secs(30);
                    prometheus.add_scrape_target(&target, Duration::from_secs(1));
                    prometheus.wait_for_query(&gauge("db_migrations_pending"), wait, is("1"));
                    prometheus.wait_for_query(&gauge("db_migrations_applied"), wait, is("1"));

                    runtime.block_on(async {
                        all.run(&pool).await.expect("pending migration");
                        let counts = o11y::db::refresh_migrations(&pool, &all, "shop")
                            .await
                            .expect("refresh");
                        assert_eq!((counts.applied, counts.pending), (2, 0));
                        pool.close().await;
                    });
                    prometheus.wait_for_query(&gauge("db_migrations_pending"), wait, is("0"));
                    prometheus.wait_for_query(&gauge("db_migrations_applied"), wait, is("2"));
                    prometheus.remove_scrape_target(&target);
                    drop(runtime);
                    drop(guard);
                });
        }
    };
}
