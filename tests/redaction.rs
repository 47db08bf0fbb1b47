//! The secrets corpus, through the public API: a password, an e-mail
//! address, a card number, a JWT, a bearer token, an AWS access key id, a
//! PEM private key and an SSN, each put in every channel that exists (an
//! `#[observe]` argument and field, a span field, a log field, a log
//! message, an error's `Display` with `#[observe(err)]`, a span event, the
//! context API and, with the `axum` feature, a query string, headers and
//! the request's user), must reach none of what leaves the process: the
//! spans and log records a real collector (rotel) received, the JSON log
//! file, the console output, and the metrics. The text around each secret
//! must, so that a redaction removing everything fails too.
//!
//! Tests that call `o11y::init()` run their body in a child process (see
//! `tests/support`).
// With `off`, o11y records nothing: there is nothing to redact.
#![cfg(not(feature = "off"))]

use o11y_test_support as common;

use std::fmt;
use std::time::Duration;

use common::exposition::sample_value;
use common::scenario::{log_line, o11y_child, report_text, reported};
use common::secrets::*;
use serde_json::Value;

fn attribute<'a>(item: &'a Value, key: &str) -> &'a Value {
    &item["attributes"][key]
}

// ---------------------------------------------------------------------------
// Spans, log lines, errors, the context API.

/// Declined, saying why with every secret in it.
#[derive(Debug)]
struct Declined;

impl fmt::Display for Declined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "order 4242 declined: {}", all_patterns())
    }
}

impl std::error::Error for Declined {}

/// `password` and `customer_email` are found by their names, `card` and
/// `order_ref` by the patterns.
#[o11y::observe(args(password, customer_email, card), fields(order_ref = reference), err)]
fn charge(
    password: &str,
    customer_email: &str,
    card: &str,
    reference: &str,
) -> Result<u64, Declined> {
    o11y::tag("customer.email", EMAIL);
    o11y::tag("customer.memo", all_patterns());
    o11y::tag("customer.tier", "gold");
    o11y::log_context("payer_note", all_patterns());
    let vault = tracing::info_span!(
        "vault",
        password = PASSWORD,
        api_key = AWS_KEY,
        memo = %all_patterns(),
        order_id = 4242_u64,
    );
    let _vault = vault.enter();
    tracing::info!(
        password = PASSWORD,
        contact = EMAIL,
        memo = %all_patterns(),
        order_id = 4242_u64,
        "charging order 4242: {}",
        all_patterns()
    );
    // A warning is also an event of its span.
    tracing::warn!(
        token = JWT,
        detail = %all_patterns(),
        order_id = 4242_u64,
        "retrying order 4242: {}",
        all_patterns()
    );
    Err(Declined)
}

#[test]
fn secrets_reach_no_span_log_line_file_console_or_metric() {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("app.log");
    let output = o11y_child("secrets_reach_no_span_log_line_file_console_or_metric")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
        .env("O11Y_LOGGING_OTLP_ENABLED", "true")
        .env("O11Y_LOGGING_FORMAT", "console")
        .env("O11Y_LOGGING_FILE_ENABLED", "true")
        .env("O11Y_LOGGING_FILE_PATH", &file)
        .run(|| {
            let guard = o11y::init().expect("init");
            let charged = charge(PASSWORD, EMAIL, CARD, &all_patterns());
            assert!(charged.is_err());
            report_text(
                "metrics",
                o11y::metrics::render(o11y::metrics::Format::Prometheus),
            );
            drop(guard);
        });

    // The console: the child's whole output.
    assert_no_secret("the console output", &output.combined());
    assert!(
        output
            .stdout
            .contains(&format!("charging order 4242: {ALL_REDACTED}")),
        "the message, its words kept:\n{}",
        output.stdout
    );

    // The JSON log file.
    let text = std::fs::read_to_string(&file).expect("the log file");
    assert_no_secret("the JSON log file", &text);
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    let line = log_line(&lines, &format!("charging order 4242: {ALL_REDACTED}"));
    assert_eq!(line["password"], "[REDACTED]", "{line}");
    assert_eq!(line["contact"], "[REDACTED]", "{line}");
    assert_eq!(line["memo"], ALL_REDACTED, "{line}");
    assert_eq!(line["order_id"], 4242, "{line}");
    assert_eq!(line["payer_note"], ALL_REDACTED, "log_context: {line}");
    assert_eq!(line["customer.email"], "[REDACTED]", "tag: {line}");
    assert_eq!(line["customer.tier"], "gold", "tag: {line}");
    assert_eq!(line["customer_email"], "[REDACTED]", "an argument: {line}");
    assert_eq!(line["card"], "[REDACTED]", "an argument: {line}");
    assert_eq!(line["order_ref"], ALL_REDACTED, "a field: {line}");
    let failed = log_line(&lines, "charge failed");
    assert_eq!(
        failed["error"],
        format!("order 4242 declined: {ALL_REDACTED}"),
        "the error's Display: {failed}"
    );

    // The metrics, and what the redactions counted.
    let metrics = reported(&output, "metrics");
    let metrics = metrics.as_str().expect("text");
    assert_no_secret("the metrics", metrics);
    for (signal, rule) in [
        ("logs", "key"),
        ("logs", "email"),
        ("logs", "card_number"),
        ("logs", "jwt"),
        ("logs", "bearer"),
        ("logs", "aws_access_key"),
        ("logs", "private_key"),
        ("logs", "us_ssn"),
        ("traces", "key"),
    ] {
        let count = sample_value(
            metrics,
            "o11y_redactions_total",
            &[("signal", signal), ("rule", rule)],
        );
        assert!(
            count.is_some_and(|n| n > 0.0),
            "o11y_redactions_total{{signal={signal},rule={rule}}} = {count:?}:\n{metrics}"
        );
    }

    // What the collector received.
    let spans = rotel.wait_for_spans(Duration::from_secs(10), |spans| spans.len() >= 2);
    let logs = rotel.wait_for_logs(Duration::from_secs(10), |logs| logs.len() >= 3);
    assert_rotel_received_no_secret(&spans, &logs);

    let vault = spans
        .iter()
        .find(|s| s["name"] == "vault")
        .expect("the vault span");
    assert_eq!(attribute(vault, "password"), "[REDACTED]");
    assert_eq!(attribute(vault, "api_key"), "[REDACTED]");
    assert_eq!(attribute(vault, "memo"), ALL_REDACTED);
    assert_eq!(attribute(vault, "order_id"), 4242);
    assert!(
        attribute(vault, "customer.email").is_null(),
        "tags went to charge"
    );
    let retry = &vault["events"][0];
    assert_eq!(
        retry["name"],
        format!("retrying order 4242: {ALL_REDACTED}")
    );
    assert_eq!(attribute(retry, "token"), "[REDACTED]");
    assert_eq!(attribute(retry, "detail"), ALL_REDACTED);
    assert_eq!(attribute(retry, "order_id"), 4242);

    let charge = spans
        .iter()
        .find(|s| s["name"].as_str().is_some_and(|n| n.ends_with("charge")))
        .expect("the charge span");
    assert_eq!(attribute(charge, "password"), "[REDACTED]");
    assert_eq!(attribute(charge, "customer_email"), "[REDACTED]");
    assert_eq!(attribute(charge, "card"), "[REDACTED]");
    assert_eq!(attribute(charge, "order_ref"), ALL_REDACTED);
    assert_eq!(attribute(charge, "customer.email"), "[REDACTED]");
    assert_eq!(attribute(charge, "customer.memo"), ALL_REDACTED);
    assert_eq!(attribute(charge, "customer.tier"), "gold");
    assert_eq!(charge["status_code"], "error");
    let error_event = charge["events"]
        .as_array()
        .and_then(|events| events.iter().find(|e| e["name"] == "charge failed"))
        .expect("the err event");
    assert_eq!(
        attribute(error_event, "error"),
        format!("order 4242 declined: {ALL_REDACTED}").as_str()
    );

    let record = logs
        .iter()
        .find(|l| {
            l["body"]
                .as_str()
                .is_some_and(|b| b.starts_with("charging order 4242"))
        })
        .expect("the log record");
    assert_eq!(
        record["body"],
        format!("charging order 4242: {ALL_REDACTED}")
    );
    assert_eq!(attribute(record, "password"), "[REDACTED]");
    assert_eq!(attribute(record, "memo"), ALL_REDACTED);
    assert_eq!(attribute(record, "order_id"), 4242);
}

#[test]
fn redaction_can_be_told_more_names_fewer_names_and_other_patterns() {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    let output = o11y_child("redaction_can_be_told_more_names_fewer_names_and_other_patterns")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
        .env("O11Y_REDACTION_KEYS", "ticket")
        .env("O11Y_REDACTION_ALLOW_KEYS", "contact")
        .env("O11Y_REDACTION_PATTERNS", "-us_ssn;re:ord-[0-9]{4}")
        .env("O11Y_REDACTION_REPLACEMENT", "***")
        .run(|| {
            let guard = o11y::init().expect("init");
            tracing::info_span!("support", ticket_id = "T-1", ssn = SSN).in_scope(|| {
                tracing::info!(contact = "desk", ref_no = "ord-1234", "case for {SSN}");
            });
            drop(guard);
        });
    let lines = common::scenario::json_lines(&output);
    let line = log_line(&lines, &format!("case for {SSN}"));
    assert_eq!(line["ticket_id"], "***", "an added name: {line}");
    assert_eq!(line["ssn"], "***", "a built-in name: {line}");
    assert_eq!(line["contact"], "desk", "an allowed name: {line}");
    assert_eq!(line["ref_no"], "***", "a custom pattern: {line}");
    let spans = rotel.wait_for_spans(Duration::from_secs(10), |spans| !spans.is_empty());
    let support = spans
        .iter()
        .find(|s| s["name"] == "support")
        .expect("the span");
    assert_eq!(attribute(support, "ticket_id"), "***");
    assert_eq!(attribute(support, "ssn"), "***");
}

#[test]
fn redaction_can_be_turned_off() {
    let output = o11y_child("redaction_can_be_turned_off")
        .env("O11Y_REDACTION_ENABLED", "false")
        .run(|| {
            let guard = o11y::init().expect("init");
            tracing::info!(password = PASSWORD, "mail {EMAIL}");
            drop(guard);
        });
    let lines = common::scenario::json_lines(&output);
    let line = log_line(&lines, &format!("mail {EMAIL}"));
    assert_eq!(line["password"], PASSWORD, "off means off: {line}");
}

// ---------------------------------------------------------------------------
// The HTTP layer: query strings, headers, the request's user.

#[cfg(feature = "axum")]
mod http {
    use super::*;

    use axum::Router;
    use axum::routing::get;
    use common::http::{assert_status, get_from, urlencode};
    use common::server::serve;

    async fn pay() -> &'static str {
        assert!(o11y::http::set_user(EMAIL), "inside a request");
        tracing::info!("paying order 4242");
        "paid"
    }

    fn app() -> Router {
        Router::new()
            .route("/pay", get(pay))
            .merge(o11y::http::routes())
            .layer(o11y::http::layer())
    }

    #[test]
    fn secrets_in_query_strings_and_headers_reach_no_span_log_line_or_metric() {
        let Some(rotel) = common::Rotel::start() else {
            return;
        };
        let output = o11y_child(
            "http::secrets_in_query_strings_and_headers_reach_no_span_log_line_or_metric",
        )
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
        .env("O11Y_LOGGING_OTLP_ENABLED", "true")
        .env(
            "O11Y_HTTP_CAPTURE_HEADERS",
            "authorization,x-api-key,cookie,x-note,x-tenant",
        )
        .run(|| {
            let guard = o11y::init().expect("init");
            let (addr, runtime) = serve(app());
            let path = format!(
                "/pay?password={}&email={}&note={}&page=2",
                urlencode(PASSWORD),
                urlencode(EMAIL),
                urlencode(&all_patterns()),
            );
            let bearer = format!("Bearer {BEARER}");
            let cookie = format!("session={JWT}");
            let note = format!("{EMAIL} {SSN}");
            let paid = get_from(
                addr,
                &path,
                &[
                    ("authorization", &bearer),
                    ("x-api-key", AWS_KEY),
                    ("cookie", &cookie),
                    ("x-note", &note),
                    ("x-tenant", "acme"),
                ],
            );
            assert_status(&paid, 200);
            let metrics = get_from(addr, "/metrics", &[]);
            assert_status(&metrics, 200);
            report_text("metrics", metrics.text());
            drop(runtime);
            drop(guard);
        });
        assert_no_secret("the console output", &output.combined());
        let metrics = reported(&output, "metrics");
        assert_no_secret("/metrics", metrics.as_str().expect("text"));

        let lines = common::scenario::json_lines(&output);
        let line = log_line(&lines, "paying order 4242");
        assert_eq!(line["user_id"], "[REDACTED]", "{line}");
        assert_eq!(line["path"], "/pay", "{line}");

        let spans = rotel.wait_for_spans(Duration::from_secs(10), |spans| {
            spans.iter().any(|s| s["kind"] == "server")
        });
        let logs = rotel.wait_for_logs(Duration::from_secs(10), |logs| {
            logs.iter().any(|l| l["body"] == "paying order 4242")
        });
        assert_rotel_received_no_secret(&spans, &logs);

        let server = spans
            .iter()
            .find(|s| s["kind"] == "server" && attribute(s, "url.path") == "/pay")
            .expect("the request span");
        assert_eq!(
            attribute(server, "url.query"),
            "password=REDACTED&email=REDACTED&note=REDACTED&page=2"
        );
        let header = |name: &str| attribute(server, &format!("http.request.header.{name}")).clone();
        assert_eq!(header("authorization"), serde_json::json!(["[REDACTED]"]));
        assert_eq!(header("x-api-key"), serde_json::json!(["[REDACTED]"]));
        assert_eq!(header("cookie"), serde_json::json!(["[REDACTED]"]));
        assert_eq!(
            header("x-note"),
            serde_json::json!(["[REDACTED] [REDACTED]"]),
            "a harmless name, its text scrubbed"
        );
        assert_eq!(header("x-tenant"), serde_json::json!(["acme"]));
        assert_eq!(attribute(server, "user.id"), "[REDACTED]");
    }
}
