//! The N+1 detector as configured, through the public API, with queries
//! reported by `o11y::db::record_query` (no database needed): the
//! threshold, the minimum total duration, the allowlist and `raise` mode,
//! from the environment; the scope's name and the first query's source in
//! the report.
#![cfg(not(feature = "off"))]

use o11y_test_support as common;

use std::time::Duration;

use common::scenario::{json_lines, o11y_child, report, reported};
use serde_json::json;

/// `n` queries of one shape, one after the other, each taking `each`.
fn queries(n: u64, each: Duration) {
    for id in 0..n {
        std::thread::sleep(each);
        let sql = format!("SELECT value FROM settings WHERE id = {id}");
        o11y::db::record_query("postgresql", &sql, each, Some(1));
    }
}

/// 5 × 20 ms run at once (as `join_all` would): 20 ms of wall time, under
/// the minimum.
#[o11y::observe]
fn concurrent() {
    std::thread::sleep(Duration::from_millis(20));
    for id in 0..5 {
        let sql = format!("SELECT value FROM settings WHERE id = {id}");
        o11y::db::record_query("postgresql", &sql, Duration::from_millis(20), Some(1));
    }
}

#[o11y::observe]
fn warm_cache() {
    queries(6, Duration::from_millis(20));
}

/// Not allowlisted itself: the allowlisted scopes inside it run 12
/// queries of one shape, still allowed.
#[o11y::observe]
fn nightly() {
    warm_cache();
    warm_cache();
}

#[o11y::observe]
fn too_fast() {
    queries(4, Duration::from_millis(1));
}

#[o11y::observe]
fn slow_enough() {
    queries(3, Duration::from_millis(20));
}

#[test]
fn threshold_min_duration_allowlist_and_raise_come_from_the_configuration() {
    let output =
        o11y_child("threshold_min_duration_allowlist_and_raise_come_from_the_configuration")
            .env("O11Y_DB_N_PLUS_ONE_THRESHOLD", "3")
            .env("O11Y_DB_N_PLUS_ONE_MIN_DURATION", "50ms")
            .env("O11Y_DB_N_PLUS_ONE_ALLOWLIST", "warm_*")
            .env("O11Y_DB_N_PLUS_ONE_MODE", "raise")
            .run(|| {
                let guard = o11y::init().expect("init");
                // Allowlisted scope: 6 × 20 ms, not reported, nor by the
                // scopes around it, an assertion's included.
                warm_cache();
                nightly();
                o11y::db::assert_no_n_plus_one(warm_cache);
                // 4 × 1 ms: under the minimum total duration.
                too_fast();
                concurrent();
                // 3 × 20 ms: reported, and raised when the call ends.
                let panic = std::panic::catch_unwind(slow_enough).expect_err("raise mode panics");
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .expect("a formatted message");
                report("message", json!(message));
                report(
                    "metrics",
                    json!(o11y::metrics::render(o11y::metrics::Format::Prometheus)),
                );
                drop(guard);
            });
    let message = reported(&output, "message");
    let message = message.as_str().unwrap();
    assert!(
        message.starts_with(
            "N+1 queries (db.n_plus_one.mode = raise): 1 N+1 query pattern(s) detected:"
        ),
        "{message}"
    );
    assert!(
        message.contains("3 × `SELECT value FROM settings WHERE id = ?` in slow_enough (60.0 ms in total, first at tests/db_detector.rs:"),
        "{message}"
    );

    let lines = json_lines(&output);
    let detected: Vec<_> = lines
        .iter()
        .filter(|line| line["event"] == "n_plus_one_detected")
        .collect();
    assert_eq!(detected.len(), 1, "{detected:#?}");
    assert_eq!(detected[0]["scope"], "slow_enough");
    assert_eq!(detected[0]["count"], 3);
    assert_eq!(detected[0]["threshold"], 3);
    assert!(
        detected[0]["source"]
            .as_str()
            .is_some_and(|s| s.starts_with("tests/db_detector.rs:")),
        "{}",
        detected[0]
    );

    let metrics = reported(&output, "metrics");
    let metrics = metrics.as_str().unwrap();
    let value = |name: &str, labels: &[(&str, &str)]| {
        common::exposition::sample_value(metrics, name, labels)
    };
    assert_eq!(
        value("db_n_plus_one_total", &[("scope", "slow_enough")]),
        Some(1.0),
        "{metrics}"
    );
    assert_eq!(
        value("db_n_plus_one_total", &[("scope", "warm_cache")]),
        None,
        "{metrics}"
    );
    for allowed in ["too_fast", "concurrent", "nightly", "assert_no_n_plus_one"] {
        assert_eq!(
            value("db_n_plus_one_total", &[("scope", allowed)]),
            None,
            "{metrics}"
        );
    }
    // The raised call counts as failed.
    let calls = common::exposition::samples(metrics)
        .into_iter()
        .find(|s| {
            s.name == "function_calls_total"
                && s.label("function") == "slow_enough"
                && s.label("result") == "error"
        })
        .map(|s| s.value);
    assert_eq!(calls, Some(1.0), "{metrics}");
    assert_eq!(
        value(
            "db_client_queries_total",
            &[
                ("db_system", "postgresql"),
                ("db_operation_name", "SELECT"),
                ("result", "ok")
            ]
        ),
        Some(36.0),
        "{metrics}"
    );
}
