//! Tests of the test harness itself (`tests/support`): each real peer starts,
//! answers, and receives what the o11y tests will send it; the child-process
//! helper runs bodies, reports failures and passes peers to the child.

use o11y_test_support as common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::{Value, json};

use common::http;

const WAIT: Duration = Duration::from_secs(20);

fn post_json(url: &str, body: &Value) -> http::HttpResponse {
    let r = http::post(url, "application/json", body.to_string().as_bytes())
        .unwrap_or_else(|e| panic!("POST {url}: {e}"));
    assert_eq!(r.status, 200, "POST {url}: {}", r.text());
    r
}

#[test]
fn rotel_receives_otlp_http_json_for_all_three_signals() {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    assert!(TcpStream::connect(("127.0.0.1", rotel.grpc_port())).is_ok());
    let trace_id = common::random_hex(32);
    let span_id = common::random_hex(16);
    let resource = json!({"attributes": [
        {"key": "service.name", "value": {"stringValue": "peers-harness"}}
    ]});

    // OTLP/JSON as the spec writes it (ids in hex, 64-bit integers as strings).
    post_json(
        &format!("{}/v1/traces", rotel.http_endpoint()),
        &json!({"resourceSpans": [{
            "resource": resource,
            "scopeSpans": [{
                "scope": {"name": "harness", "version": "0.1"},
                "spans": [{
                    "traceId": trace_id, "spanId": span_id, "parentSpanId": "",
                    "name": "GET /orders/{id}", "kind": 2,
                    "startTimeUnixNano": "1700000000000000000",
                    "endTimeUnixNano": "1700000000500000000",
                    "attributes": [
                        {"key": "http.route", "value": {"stringValue": "/orders/{id}"}},
                        {"key": "http.response.status_code", "value": {"intValue": "500"}},
                        {"key": "retry", "value": {"boolValue": true}}
                    ],
                    "events": [{"name": "exception", "timeUnixNano": "1700000000400000000",
                                "attributes": [{"key": "exception.message",
                                                "value": {"stringValue": "boom"}}]}],
                    "status": {"code": 2, "message": "boom"}
                }]
            }]
        }]}),
    );
    let spans = rotel.wait_for_spans(WAIT, |s| s.iter().any(|s| s["trace_id"] == trace_id));
    let span = spans.iter().find(|s| s["trace_id"] == trace_id).unwrap();
    assert_eq!(span["span_id"], span_id);
    assert_eq!(span["parent_span_id"], "");
    assert_eq!(span["name"], "GET /orders/{id}");
    assert_eq!(span["kind"], "server");
    assert_eq!(span["attributes"]["http.route"], "/orders/{id}");
    assert_eq!(span["attributes"]["http.response.status_code"], 500);
    assert_eq!(span["attributes"]["retry"], true);
    assert_eq!(span["resource"]["service.name"], "peers-harness");
    assert_eq!(span["scope"], "harness");
    assert_eq!(span["status_code"], "error");
    assert_eq!(span["status_message"], "boom");
    assert_eq!(span["start_time_unix_nano"], 1_700_000_000_000_000_000u64);
    assert_eq!(span["events"][0]["name"], "exception");
    assert_eq!(span["events"][0]["attributes"]["exception.message"], "boom");

    post_json(
        &format!("{}/v1/logs", rotel.http_endpoint()),
        &json!({"resourceLogs": [{
            "resource": resource,
            "scopeLogs": [{
                "scope": {"name": "harness"},
                "logRecords": [{
                    "timeUnixNano": "1700000000100000000",
                    "severityNumber": 9, "severityText": "INFO",
                    "body": {"stringValue": "order placed"},
                    "attributes": [{"key": "order_id", "value": {"intValue": "7"}}],
                    "traceId": trace_id, "spanId": span_id
                }]
            }]
        }]}),
    );
    let logs = rotel.wait_for_logs(WAIT, |l| l.iter().any(|l| l["trace_id"] == trace_id));
    let log = logs.iter().find(|l| l["trace_id"] == trace_id).unwrap();
    assert_eq!(log["span_id"], span_id);
    assert_eq!(log["body"], "order placed");
    assert_eq!(log["severity_text"], "INFO");
    assert_eq!(log["severity_number"], 9);
    assert_eq!(log["attributes"]["order_id"], 7);
    assert_eq!(log["resource"]["service.name"], "peers-harness");

    // rotel 0.0.1-alpha10's JSON decoder drops histograms and exemplars and
    // wants `asInt` as a JSON number (timestamps as strings); all of these
    // arrive fine over protobuf, which is what o11y sends.
    post_json(
        &format!("{}/v1/metrics", rotel.http_endpoint()),
        &json!({"resourceMetrics": [{
            "resource": resource,
            "scopeMetrics": [{
                "scope": {"name": "harness"},
                "metrics": [
                    {"name": "harness_queue_depth", "unit": "1", "description": "depth",
                     "gauge": {"dataPoints": [{"asDouble": 2.5, "timeUnixNano": "1700000000000000000",
                        "attributes": [{"key": "queue", "value": {"stringValue": "a"}}]}]}},
                    {"name": "harness_jobs_total", "unit": "1",
                     "sum": {"aggregationTemporality": 2, "isMonotonic": true,
                        "dataPoints": [{"asInt": 3, "startTimeUnixNano": "1690000000000000000",
                                        "timeUnixNano": "1700000000000000000"}]}}
                ]
            }]
        }]}),
    );
    let metrics = rotel.wait_for_metrics(WAIT, |m| {
        !common::named(m, "harness_queue_depth").is_empty()
            && !common::named(m, "harness_jobs_total").is_empty()
    });
    let gauge = common::named(&metrics, "harness_queue_depth")[0];
    assert_eq!(gauge["type"], "gauge");
    assert_eq!(gauge["value"], 2.5);
    assert_eq!(gauge["description"], "depth");
    assert_eq!(gauge["attributes"]["queue"], "a");
    let sum = common::named(&metrics, "harness_jobs_total")[0];
    assert_eq!(sum["type"], "sum");
    assert_eq!(sum["value"], 3);
    assert_eq!(sum["is_monotonic"], true);
    assert_eq!(sum["temporality"], "cumulative");
}

#[test]
fn prometheus_is_ready_queries_and_scrapes_added_targets() {
    let Some(prom) = common::Prometheus::start() else {
        return;
    };
    let ready = prom.get("/-/ready");
    assert_eq!(ready.status, 200, "{}", ready.text());
    let up = prom.query("up");
    assert_eq!(up["data"]["resultType"], "vector");

    // Prometheus scraping itself proves file_sd targets and the interval label.
    let me = format!("127.0.0.1:{}", prom.port());
    prom.add_scrape_target(&me, Duration::from_millis(500));
    let series = prom.wait_for_query(&format!("up{{instance=\"{me}\"}}"), WAIT, |r| {
        r.iter().any(|s| s["value"][1] == "1")
    });
    assert_eq!(series[0]["metric"]["job"], "o11y");
}

#[test]
fn postgres_accepts_tcp_and_psql() {
    let Some(pg) = common::Postgres::start() else {
        return;
    };
    assert_eq!(
        pg.url(),
        format!("postgres://postgres@127.0.0.1:{}/o11y_test", pg.port())
    );
    TcpStream::connect(("127.0.0.1", pg.port())).expect("connect to postgres");
    assert_eq!(pg.psql("select 1").trim(), "1");
    assert_eq!(pg.psql("select current_database()").trim(), "o11y_test");
}

#[test]
fn redis_answers_ping() {
    let Some(redis) = common::Redis::start() else {
        return;
    };
    assert_eq!(redis.url(), format!("redis://127.0.0.1:{}", redis.port()));
    let mut s = TcpStream::connect(("127.0.0.1", redis.port())).expect("connect to redis");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"PING\r\n").unwrap();
    let mut buf = [0u8; 7];
    s.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"+PONG\r\n");
    assert_eq!(
        redis.cmd(&["SET", "harness", "ok"]),
        common::Resp::Simple("OK".into())
    );
    assert_eq!(
        redis.cmd(&["GET", "harness"]).as_str().as_deref(),
        Some("ok")
    );
}

#[test]
fn child_runs_the_body_with_env_and_the_parents_peers() {
    // No early return: without redis the child part is still tested.
    let redis = common::Redis::start();
    let parent_port = redis.as_ref().map(|r| r.port()).unwrap_or(0).to_string();
    let out = common::child("child_runs_the_body_with_env_and_the_parents_peers")
        .env("HARNESS_VALUE", "from-parent")
        .env("HARNESS_PARENT_REDIS_PORT", &parent_port)
        .run(|| {
            assert!(common::is_child());
            assert_eq!(std::env::var("HARNESS_VALUE").unwrap(), "from-parent");
            if let Some(redis) = &redis {
                // Attached to the parent's server, not a second one.
                assert_eq!(
                    redis.port().to_string(),
                    std::env::var("HARNESS_PARENT_REDIS_PORT").unwrap()
                );
                assert_eq!(redis.cmd(&["PING"]).as_str().as_deref(), Some("PONG"));
                redis.cmd(&["SET", "written-by", "child"]);
            }
            println!("child says hello");
        });
    assert!(out.success());
    assert_eq!(
        out.stdout, "child says hello\n",
        "raw: {:?}",
        out.raw_stdout
    );
    if let Some(redis) = &redis {
        assert_eq!(
            redis.cmd(&["GET", "written-by"]).as_str().as_deref(),
            Some("child")
        );
    }
}

#[test]
fn child_failure_is_reported() {
    let out = common::child("child_failure_is_reported")
        .allow_failure()
        .run(|| panic!("boom-from-child"));
    assert!(!out.success());
    assert!(!out.completed);
    assert!(out.stderr.contains("boom-from-child"), "{}", out.stderr);
}

#[test]
fn missing_peer_is_skipped_with_one_line() {
    let out = common::child("missing_peer_is_skipped_with_one_line")
        .env("O11Y_PEERS_DIR", "/nonexistent/o11y-peers")
        .env_remove("O11Y_REQUIRE_PEERS")
        .run(|| assert!(common::Rotel::start().is_none()));
    let lines: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("skipping:"))
        .collect();
    assert_eq!(
        lines,
        ["skipping: peer rotel not installed (run scripts/peers/rotel.sh install)"]
    );
}

#[test]
fn missing_peer_fails_when_required() {
    let out = common::child("missing_peer_fails_when_required")
        .env("O11Y_PEERS_DIR", "/nonexistent/o11y-peers")
        .env("O11Y_REQUIRE_PEERS", "1")
        .allow_failure()
        .run(|| {
            let _ = common::Rotel::start();
        });
    assert!(!out.success());
    assert!(
        out.stderr
            .contains("peer rotel is required (O11Y_REQUIRE_PEERS=1) but not installed: run scripts/peers/rotel.sh install"),
        "{}",
        out.stderr
    );
}

#[test]
fn http_client_parses_chunked_and_length_bodies() {
    let r = http::parse_response(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n",
        false,
    )
    .unwrap();
    assert_eq!((r.status, r.text()), (200, "hello world".to_string()));
    let r = http::parse_response(
        b"HTTP/1.0 404 Not Found\r\nContent-Length: 3\r\n\r\nabcdef",
        false,
    )
    .unwrap();
    assert_eq!((r.status, r.text()), (404, "abc".to_string()));
    assert_eq!(
        http::urlencode("up{job=\"o11y\"}"),
        "up%7Bjob%3D%22o11y%22%7D"
    );
}
