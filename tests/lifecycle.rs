//! `init()` and its guard: flushing on drop, a second `init`, bad
//! configuration, `OTEL_SDK_DISABLED`, a collector that is down, the
//! no-endpoint announcement, and composing o11y's layer into a subscriber of
//! one's own.

use o11y_test_support as common;

use std::time::{Duration, Instant};

use common::scenario::{json_lines, o11y_child, report, reported};
use serde_json::json;

#[test]
fn dropping_the_guard_flushes_spans_created_just_before() {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    o11y_child("dropping_the_guard_flushes_spans_created_just_before")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
        .run(|| {
            let guard = o11y::init().expect("init");
            // Far fewer than a batch, created right before the drop: without
            // the flush they would wait for the next export tick, which never
            // comes because the process exits.
            for i in 0..50_u64 {
                tracing::info_span!("last_words", i).in_scope(|| {});
            }
            drop(guard);
        });
    let spans = rotel.wait_for_spans(Duration::from_secs(10), |spans| spans.len() >= 50);
    assert_eq!(spans.len(), 50);
    let mut seen: Vec<i64> = spans
        .iter()
        .map(|s| s["attributes"]["i"].as_i64().unwrap())
        .collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..50).collect::<Vec<_>>());
}

#[test]
fn otel_sdk_disabled_sends_nothing() {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    let output = o11y_child("otel_sdk_disabled_sends_nothing")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
        .env("O11Y_LOGGING_OTLP_ENABLED", "true")
        .env("OTEL_SDK_DISABLED", "true")
        .run(|| {
            let guard = o11y::init().expect("init");
            tracing::info_span!("not_exported").in_scope(|| tracing::warn!("not exported either"));
            drop(guard);
            let stats = o11y::export::stats();
            report(
                "exported",
                json!(stats.spans_exported + stats.logs_exported),
            );
        });
    assert_eq!(reported(&output, "exported"), 0);
    let started = json_lines(&output)
        .into_iter()
        .find(|l| l["logger"] == "o11y")
        .expect("init line");
    assert!(
        started["event"]
            .as_str()
            .unwrap()
            .contains("tracing is disabled"),
        "{started}"
    );
    // rotel batches for ~200 ms; anything sent would have arrived by now.
    std::thread::sleep(Duration::from_secs(1));
    assert!(rotel.spans().is_empty(), "{:?}", rotel.spans());
    assert!(rotel.logs().is_empty(), "{:?}", rotel.logs());
}

#[test]
fn a_second_init_is_an_error_not_a_panic() {
    let output = o11y_child("a_second_init_is_an_error_not_a_panic").run(|| {
        let _guard = o11y::init().expect("first init");
        let second = o11y::init().expect_err("second init");
        assert!(matches!(second, o11y::Error::AlreadyInitialized));
        report("message", json!(second.to_string()));
    });
    let message = reported(&output, "message");
    assert!(
        message.as_str().unwrap().contains("already initialised"),
        "{message}"
    );
}

#[test]
fn init_reports_a_bad_value_from_the_environment() {
    let output = o11y_child("init_reports_a_bad_value_from_the_environment")
        .env("O11Y_TRACING_SAMPLE_RATE", "1.5")
        .run(|| {
            let error = o11y::init().expect_err("a sample rate of 1.5");
            assert!(matches!(error, o11y::Error::Config(_)), "{error:?}");
            // What `fn main() -> Result<(), o11y::Error>` prints: the message.
            assert_eq!(format!("{error:?}"), error.to_string());
            report("error", json!(error.to_string()));
            // A failed init leaves the way open for a good one.
            let good = o11y::Config::builder()
                .env_vars(Vec::<(String, String)>::new())
                .build();
            let _guard = o11y::init_with(good.expect("config")).expect("init after a failed one");
        });
    let error = reported(&output, "error");
    let error = error.as_str().unwrap();
    assert!(
        error.contains("tracing.sample_rate") && error.contains("\"1.5\""),
        "{error}"
    );
    assert!(
        error.contains("O11Y_TRACING_SAMPLE_RATE") && error.contains("0.0 to 1.0"),
        "{error}"
    );
}

#[test]
fn init_reports_an_unknown_key_in_the_config_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("o11y.toml");
    std::fs::write(&file, "[tracing]\nsample_rat = 0.5\n").expect("write o11y.toml");
    let output = o11y_child("init_reports_an_unknown_key_in_the_config_file")
        .env("O11Y_CONFIG", &file)
        .run(|| {
            let error = o11y::init().expect_err("an unknown key");
            report("error", json!(error.to_string()));
        });
    let error = reported(&output, "error");
    let error = error.as_str().unwrap();
    assert!(
        error.contains("tracing.sample_rat") && error.contains("o11y.toml:2:1"),
        "{error}"
    );
    assert!(
        error.contains("did you mean tracing.sample_rate"),
        "{error}"
    );
}

#[test]
fn without_an_endpoint_init_says_so_once() {
    let output = o11y_child("without_an_endpoint_init_says_so_once").run(|| {
        let guard = o11y::init().expect("init");
        tracing::info_span!("local_only").in_scope(|| tracing::info!("correlated anyway"));
        drop(guard);
    });
    let lines = json_lines(&output);
    let notices: Vec<_> = lines
        .iter()
        .filter(|l| {
            l["event"]
                .as_str()
                .is_some_and(|e| e.contains("no OTLP endpoint configured"))
        })
        .collect();
    assert_eq!(notices.len(), 1, "{lines:#?}");
    assert_eq!(notices[0]["level"], "info");
    let line = common::scenario::log_line(&lines, "correlated anyway");
    assert!(line.get("trace_id").is_some());
}

#[test]
fn a_collector_that_is_down_never_blocks_the_caller() {
    // A port nobody listens on.
    let endpoint = format!("http://127.0.0.1:{}", common::free_port());
    let output = o11y_child("a_collector_that_is_down_never_blocks_the_caller")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)
        .env("O11Y_SHUTDOWN_TIMEOUT", "2s")
        .run(|| {
            let guard = o11y::init().expect("init");
            for i in 0..20_000_u64 {
                tracing::info_span!("into_the_void", i).in_scope(|| {});
            }
            let dropped_at = Instant::now();
            drop(guard);
            report("drop_ms", json!(dropped_at.elapsed().as_millis() as u64));
            let stats = o11y::export::stats();
            report("stats", json!({ "exported": stats.spans_exported, "dropped": stats.spans_dropped, "errors": stats.span_export_errors }));
        });
    let stats = reported(&output, "stats");
    assert_eq!(stats["exported"], 0);
    assert!(
        stats["dropped"].as_u64().unwrap() > 0,
        "a full queue drops and counts: {stats}"
    );
    // The guard waits at most shutdown_timeout (2 s) for the export thread;
    // allow generous slack for a loaded machine, but not unbounded.
    let drop_ms = reported(&output, "drop_ms").as_u64().unwrap();
    assert!(drop_ms < 10_000, "dropping the guard took {drop_ms} ms");
}

#[test]
fn the_layer_composes_into_a_subscriber_of_ones_own() {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    use tracing_subscriber::layer::SubscriberExt;
    let config = o11y::Config::builder()
        .env_vars(Vec::<(String, String)>::new())
        .no_config_file()
        .profile(o11y::config::Profile::Dev)
        .service_name("composed")
        .log_file_enabled(false)
        .otlp_endpoint(rotel.grpc_endpoint())
        .build()
        .expect("config");
    let (layer, guard) = o11y::layer(config).expect("layer");
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        tracing::info_span!("scoped", answer = 42_i64).in_scope(|| {
            assert!(
                o11y::trace::current_span_ids().is_some(),
                "ids are reachable through the registry"
            );
        });
    });
    drop(guard);
    let spans = rotel.wait_for_spans(Duration::from_secs(10), |spans| !spans.is_empty());
    let span = common::scenario::span_named(&spans, "scoped");
    assert_eq!(span["attributes"]["answer"], 42);
    assert_eq!(span["resource"]["service.name"], "composed");
}

#[test]
fn the_profile_feature_picks_the_defaults_when_nothing_else_does() {
    let expected = if cfg!(feature = "profile-test") {
        "test"
    } else if cfg!(feature = "profile-prod") {
        "prod"
    } else if cfg!(feature = "profile-dev") || cfg!(debug_assertions) {
        "dev"
    } else {
        "prod"
    };
    // Not o11y_child(): it pins the dev profile, and nothing may be set here.
    let output = common::child("the_profile_feature_picks_the_defaults_when_nothing_else_does")
        .run(|| {
            let config = o11y::Config::load().expect("config");
            report("profile", json!(config.profile.to_string()));
        });
    assert_eq!(reported(&output, "profile"), expected);
}

#[test]
fn flush_without_an_exporter_has_nothing_to_wait_for() {
    let output = o11y_child("flush_without_an_exporter_has_nothing_to_wait_for")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .run(|| {
            let before_init = o11y::flush(Duration::from_millis(10));
            let guard = o11y::init().expect("init");
            let live = o11y::flush(Duration::from_millis(10));
            let task_shutdown = o11y::task::shutdown();
            drop(guard);
            let after_drop = o11y::flush(Duration::from_millis(10));
            report(
                "flushed",
                json!([before_init, live, task_shutdown, after_drop]),
            );
        });
    // With the `off` feature, init() succeeds but o11y stays inert: like
    // an uninitialised one, it has flushed nothing.
    let live = !cfg!(feature = "off");
    assert_eq!(
        reported(&output, "flushed"),
        json!([false, live, true, false]),
        "not initialised, live without an exporter, task::shutdown, guard dropped"
    );
}
