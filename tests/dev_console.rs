//! The dev console over real HTTP on the standalone metrics server
//! (`o11y::metrics::serve`): a process that exports its spans over
//! OTLP/HTTP to its own console's receiver (the receiver's path, with o11y's
//! own exporter as the client) finds them on the pages once, not twice; the
//! receiver's refusals; and `dev_console.enabled` under the prod profile.
//!
//! Tests that call `o11y::init()` run their body in a child process (see
//! `tests/support`).

use o11y_test_support as common;

use std::net::SocketAddr;
use std::time::Duration;

use common::http::{assert_status, get_from, post};
use common::scenario::{o11y_child, report, reported};
use serde_json::json;

#[test]
fn the_standalone_server_serves_the_console_and_its_receiver() {
    let port = match std::env::var("DEV_CONSOLE_PORT") {
        Ok(port) => port.parse().expect("a port"),
        Err(_) => common::free_port(),
    };
    let out = o11y_child("the_standalone_server_serves_the_console_and_its_receiver")
        .env("DEV_CONSOLE_PORT", port.to_string())
        .env(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("http://127.0.0.1:{port}/o11y"),
        )
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
        .env("O11Y_DEV_CONSOLE_MAX_BODY_BYTES", "100000")
        .run(|| {
            let _o11y = o11y::init().unwrap();
            let server = o11y::metrics::serve(("127.0.0.1", port)).unwrap();
            let addr: SocketAddr = server.local_addr();
            tracing::info_span!("checkout", cart = "<b>3 items</b>").in_scope(|| {
                tracing::info!(paid = true, "payment accepted");
            });
            assert!(o11y::flush(Duration::from_secs(10)), "flushed");

            let page = get_from(addr, "/o11y/", &[]);
            assert_status(&page, 200);
            let text = page.text();
            assert!(text.contains("checkout"), "{text}");
            let trace_id = text
                .split("data-trace-id=\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .expect("a request row")
                .to_owned();
            let trace = get_from(addr, &format!("/o11y/trace/{trace_id}"), &[]);
            assert_status(&trace, 200);
            let trace = trace.text();
            assert!(
                trace.contains("&lt;b&gt;3 items&lt;/b&gt;"),
                "escaped: {trace}"
            );
            assert!(trace.contains("payment accepted"), "its log line: {trace}");
            report(
                "span_rows",
                json!(trace.matches("class=\"span-row\"").count()),
            );
            report("exported", json!(o11y::export::stats().spans_exported));

            let garbage = post(
                &format!("http://{addr}/o11y/v1/traces"),
                "application/x-protobuf",
                &[0xff; 16],
            )
            .unwrap();
            assert_status(&garbage, 400);
            let big = post(
                &format!("http://{addr}/o11y/v1/traces"),
                "application/x-protobuf",
                &vec![0; 200_000],
            )
            .unwrap();
            assert_status(&big, 413);
            assert!(big.text().contains("dev_console.max_body_bytes"));
            let logs = get_from(addr, "/o11y/logs?level=info&q=payment", &[]);
            assert_status(&logs, 200);
            assert!(logs.text().contains("payment accepted"));
            assert_status(&get_from(addr, "/metrics", &[]), 200);
        });
    assert_eq!(
        reported(&out, "span_rows"),
        json!(1),
        "received over OTLP and kept in process: one row"
    );
    assert!(
        reported(&out, "exported").as_u64().unwrap() >= 1,
        "the receiver acknowledged the export"
    );
}

#[test]
fn the_console_under_prod_needs_allow_in_prod() {
    let refused = o11y_child("the_console_under_prod_needs_allow_in_prod")
        .env("O11Y_PROFILE", "prod")
        .env("O11Y_DEV_CONSOLE_ENABLED", "true")
        .run(|| {
            let error = o11y::init().unwrap_err().to_string();
            assert!(error.contains("dev_console.allow_in_prod"), "{error}");
            assert!(!o11y::dev_console::enabled(), "nothing installed");
        });
    assert!(refused.success());
}

#[test]
fn the_console_under_prod_with_allow_in_prod_warns() {
    let out = o11y_child("the_console_under_prod_with_allow_in_prod_warns")
        .env("O11Y_PROFILE", "prod")
        .env("O11Y_DEV_CONSOLE_ENABLED", "true")
        .env("O11Y_DEV_CONSOLE_ALLOW_IN_PROD", "true")
        .run(|| {
            let _o11y = o11y::init().unwrap();
            assert!(o11y::dev_console::enabled());
        });
    let lines = common::scenario::json_lines(&out);
    assert!(
        lines.iter().any(|line| line["level"] == "warn"
            && line["event"]
                .as_str()
                .is_some_and(|e| e.contains("dev console is on under the prod profile"))),
        "{lines:#?}"
    );
}
