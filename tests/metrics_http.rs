//! The metrics endpoint over real HTTP: the standalone server
//! (`o11y::metrics::serve`) and, with the `axum` feature, the axum routes
//! (`o11y::http::routes`). Content negotiation, routing, the runtime's own
//! metrics and a metric declared here, and the access rules
//! (`metrics.allow_from`, `metrics.bearer_token`) with their refusal counter.
//!
//! Tests that need a configuration call `o11y::init()`, so they run their
//! body in a child process (see `tests/support`).

use o11y_test_support as common;

use std::net::SocketAddr;

use common::http::{assert_status, get_from, send};
use common::scenario::o11y_child;
use o11y::metrics::{Counter, CounterVec, Format, MetricDesc};

/// A metric of this test binary: registered at link time, so it is exposed
/// (with HELP, TYPE and 0) before anything increments it.
static JOBS: Counter = Counter::new(MetricDesc::counter(
    "test_http_jobs_total",
    "Jobs run by the test worker",
));
o11y::register_metric!(JOBS);

/// Never used: a labelled metric shows HELP and TYPE and no series.
static QUEUED: CounterVec<1> = CounterVec::new(
    MetricDesc::counter("test_http_queued_total", "Jobs queued, by queue").labels(&["queue"]),
);
o11y::register_metric!(QUEUED);

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
/// What Prometheus 2.42 sends (scrape/scrape.go, `scrapeAcceptHeader`).
const PROMETHEUS_ACCEPT: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/// The value of the sample line starting with `series ` (name and labels).
#[track_caller]
fn sample(text: &str, series: &str) -> String {
    let prefix = format!("{series} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no sample {series} in:\n{text}"))
        .split(' ')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Negotiation, every registered metric with HELP/TYPE and zero values, and
/// routing: what any server of the endpoint must do, at `path` on `addr`.
fn check_exposition(addr: SocketAddr, path: &str) {
    let open = get_from(addr, path, &[("Accept", PROMETHEUS_ACCEPT)]);
    assert_status(&open, 200);
    assert_eq!(open.header("content-type"), Some(OPENMETRICS));
    let text = open.text();
    assert!(text.ends_with("# EOF\n"), "{text}");
    assert!(
        text.contains(
            "# TYPE test_http_jobs counter\n# HELP test_http_jobs Jobs run by the test worker\n"
        ),
        "{text}"
    );
    assert_eq!(sample(&text, "test_http_jobs_total"), "0");
    assert!(text.contains("# TYPE test_http_queued counter\n"), "{text}");
    assert!(
        text.contains("# TYPE o11y_metrics_scrapes_refused counter\n"),
        "{text}"
    );
    assert_eq!(
        sample(&text, "o11y_spans_dropped_total{reason=\"queue_full\"}"),
        "0"
    );

    let only_openmetrics = get_from(addr, path, &[("Accept", "application/openmetrics-text")]);
    assert_eq!(only_openmetrics.header("content-type"), Some(OPENMETRICS));

    // The test client always sends `Accept: */*`: no OpenMetrics asked for.
    let plain = get_from(addr, path, &[]);
    assert_status(&plain, 200);
    assert_eq!(plain.header("content-type"), Some(PROMETHEUS_TEXT));
    let text = plain.text();
    assert!(!text.contains("# EOF"), "{text}");
    assert!(
        text.contains("# HELP test_http_jobs_total Jobs run by the test worker\n# TYPE test_http_jobs_total counter\n"),
        "{text}"
    );
    assert_eq!(sample(&text, "test_http_jobs_total"), "0");
    assert!(
        text.contains("# HELP test_http_queued_total Jobs queued, by queue\n"),
        "{text}"
    );
    assert!(
        !text.contains("test_http_queued_total{"),
        "no series before first use: {text}"
    );
    assert_eq!(sample(&text, "o11y_spans_exported_total"), "0");
    assert!(text.contains("# TYPE o11y_build_info gauge\n"), "{text}");

    let head = send("HEAD", addr, path, &[]);
    assert_status(&head, 200);
    assert!(head.body.is_empty());

    assert_status(&get_from(addr, "/not-metrics", &[]), 404);
    assert_status(&get_from(addr, &format!("{path}/x"), &[]), 404);
    let post = send("POST", addr, path, &[]);
    assert_status(&post, 405);
    assert!(
        post.header("allow")
            .is_some_and(|allow| allow.contains("GET")),
        "{post:?}"
    );
}

// ---------------------------------------------------------------------------
// The standalone server
// ---------------------------------------------------------------------------

#[test]
fn standalone_server_serves_before_init() {
    // No init() in this (parent) process: the defaults apply, `/metrics` open to all.
    let server = o11y::metrics::serve("127.0.0.1:0").expect("serve");
    let addr = server.local_addr();
    assert!(addr.ip().is_loopback() && addr.port() != 0, "{addr}");
    check_exposition(addr, "/metrics");
    server.shutdown();
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "still listening after shutdown"
    );
}

#[test]
fn standalone_server_follows_the_configuration() {
    let port = common::free_port();
    o11y_child("standalone_server_follows_the_configuration")
        .env("O11Y_METRICS_ENDPOINT", "/internal/metrics")
        .env("O11Y_METRICS_LISTEN", format!("127.0.0.1:{port}"))
        .env("O11Y_SERVICE_VERSION", "4.5.6")
        .run(|| {
            let _o11y = o11y::init().expect("init");
            let metrics = o11y::metrics::serve_configured().expect("serve_configured");
            let addr = metrics.local_addr();
            // The whole test runs again in the child: read the port the parent chose.
            let listen = std::env::var("O11Y_METRICS_LISTEN").expect("set by the parent");
            assert_eq!(addr, listen.parse::<SocketAddr>().unwrap());
            check_exposition(addr, "/internal/metrics");
            assert_status(&get_from(addr, "/metrics", &[]), 404);

            JOBS.inc_by(3);
            let text = get_from(addr, "/internal/metrics", &[]).text();
            assert_eq!(sample(&text, "test_http_jobs_total"), "3");
            let build_info = format!(
                "o11y_build_info{{service_name=\"standalone_server_follows_the_configuration\",\
                 service_version=\"4.5.6\",o11y_version=\"{}\"}}",
                env!("CARGO_PKG_VERSION")
            );
            assert_eq!(sample(&text, &build_info), "1.0");

            // Stops when dropped, like the `let _metrics = serve(..)?` of a worker.
            drop(metrics);
            assert!(
                std::net::TcpStream::connect(addr).is_err(),
                "still listening after drop"
            );
        });
}

#[test]
fn standalone_server_refuses_addresses_outside_allow_from() {
    o11y_child("standalone_server_refuses_addresses_outside_allow_from")
        .env("O11Y_METRICS_ALLOW_FROM", "10.0.0.0/8")
        .run(|| {
            let _o11y = o11y::init().expect("init");
            let metrics = o11y::metrics::serve("127.0.0.1:0").expect("serve");
            let addr = metrics.local_addr();
            for _ in 0..2 {
                let refused = get_from(addr, "/metrics", &[("Authorization", "Bearer anything")]);
                assert_status(&refused, 403);
                assert!(!refused.text().contains("o11y_"), "{}", refused.text());
            }
            // 127.0.0.1 can never scrape here, so read the counter in process.
            let text = o11y::metrics::render(Format::Prometheus);
            assert_eq!(
                sample(
                    &text,
                    "o11y_metrics_scrapes_refused_total{reason=\"address\"}"
                ),
                "2"
            );
            assert!(!text.contains("reason=\"token\""), "{text}");
        });
}

#[test]
fn standalone_server_checks_the_bearer_token() {
    o11y_child("standalone_server_checks_the_bearer_token")
        .env("O11Y_METRICS_ALLOW_FROM", "127.0.0.0/8,::1")
        .env("O11Y_METRICS_BEARER_TOKEN", "s3cret-Token")
        .run(|| {
            let _o11y = o11y::init().expect("init");
            let metrics = o11y::metrics::serve("127.0.0.1:0").expect("serve");
            check_token_rules(metrics.local_addr(), "/metrics");
        });
}

/// With `metrics.bearer_token = "s3cret-Token"` and 127.0.0.1 allowed.
fn check_token_rules(addr: SocketAddr, path: &str) {
    let missing = get_from(addr, path, &[]);
    assert_status(&missing, 401);
    assert!(
        missing
            .header("www-authenticate")
            .is_some_and(|v| v.starts_with("Bearer")),
        "{missing:?}"
    );
    assert!(!missing.text().contains("s3cret"), "{}", missing.text());
    for wrong in [
        "Bearer s3cret-Toke",
        "Bearer s3cret-Token2",
        "Basic czNjcmV0LVRva2Vu",
    ] {
        assert_status(&get_from(addr, path, &[("Authorization", wrong)]), 401);
    }
    let allowed = get_from(
        addr,
        path,
        &[
            ("Authorization", "Bearer s3cret-Token"),
            ("Accept", PROMETHEUS_ACCEPT),
        ],
    );
    assert_status(&allowed, 200);
    assert_eq!(allowed.header("content-type"), Some(OPENMETRICS));
    // The refusals so far, in the next allowed scrape.
    let text = allowed.text();
    assert_eq!(
        sample(
            &text,
            "o11y_metrics_scrapes_refused_total{reason=\"token\"}"
        ),
        "4"
    );
    assert!(!text.contains("reason=\"address\""), "{text}");
}

// ---------------------------------------------------------------------------
// The axum routes
// ---------------------------------------------------------------------------

#[cfg(feature = "axum")]
mod axum_routes {
    use super::*;
    use common::server::{serve, serve_without_connect_info};

    fn app() -> axum::Router {
        axum::Router::new()
            .route("/", axum::routing::get(|| async { "home" }))
            .merge(o11y::http::routes())
    }

    #[test]
    fn routes_serve_the_configured_endpoint() {
        o11y_child("axum_routes::routes_serve_the_configured_endpoint")
            .env("O11Y_METRICS_ENDPOINT", "/internal/metrics")
            .run(|| {
                let _o11y = o11y::init().expect("init");
                let (addr, _runtime) = serve(app());
                check_exposition(addr, "/internal/metrics");
                assert_eq!(get_from(addr, "/", &[]).text(), "home");
                assert_status(&get_from(addr, "/metrics", &[]), 404);
            });
    }

    #[test]
    fn routes_refuse_addresses_outside_allow_from() {
        o11y_child("axum_routes::routes_refuse_addresses_outside_allow_from")
            .env("O11Y_METRICS_ALLOW_FROM", "10.0.0.0/8")
            .run(|| {
                let _o11y = o11y::init().expect("init");
                let (addr, _runtime) = serve(app());
                assert_status(&get_from(addr, "/metrics", &[]), 403);
                assert_eq!(
                    get_from(addr, "/", &[]).text(),
                    "home",
                    "only the metrics are restricted"
                );
                let text = o11y::metrics::render(Format::Prometheus);
                assert_eq!(
                    sample(
                        &text,
                        "o11y_metrics_scrapes_refused_total{reason=\"address\"}"
                    ),
                    "1"
                );
            });
    }

    #[test]
    fn routes_check_the_bearer_token() {
        o11y_child("axum_routes::routes_check_the_bearer_token")
            .env("O11Y_METRICS_ALLOW_FROM", "127.0.0.1")
            .env("O11Y_METRICS_BEARER_TOKEN", "s3cret-Token")
            .run(|| {
                let _o11y = o11y::init().expect("init");
                let (addr, _runtime) = serve(app());
                check_token_rules(addr, "/metrics");
            });
    }

    #[test]
    fn routes_fail_closed_without_the_client_address() {
        o11y_child("axum_routes::routes_fail_closed_without_the_client_address")
            .env("O11Y_METRICS_ALLOW_FROM", "127.0.0.0/8")
            .run(|| {
                let _o11y = o11y::init().expect("init");
                // Served without connect info: the address is unknown.
                let (addr, _runtime) = serve_without_connect_info(app());
                assert_status(&get_from(addr, "/metrics", &[]), 403);
                let text = o11y::metrics::render(Format::Prometheus);
                assert_eq!(
                    sample(
                        &text,
                        "o11y_metrics_scrapes_refused_total{reason=\"address\"}"
                    ),
                    "1"
                );
            });
    }

    #[test]
    fn routes_without_rules_need_no_connect_info() {
        // No init(): the defaults, open to all; plain `axum::serve(listener, app)`.
        let (addr, _runtime) = serve_without_connect_info(app());
        check_exposition(addr, "/metrics");
    }
}
