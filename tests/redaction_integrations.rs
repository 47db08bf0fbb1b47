//! The secrets corpus (`common::secrets`) through the integrations that
//! `tests/redaction.rs` does not cover: the events Sentry receives (an
//! `#[observe(err)]` error, a handler's panic in a request with secrets in
//! its query string, headers and baggage, a failed task with secrets in its
//! payload and baggage, and what the application captures itself through
//! `o11y::sentry`, with tags, extra data and a breadcrumb), SQL (literal
//! values in statements run through sqlx on SQLite), task payloads and
//! baggage. None of the secrets may reach the Sentry envelopes, the spans
//! and log records rotel received or the console; the words around them,
//! and the values that are no secret, must.
//!
//! Tests that call `o11y::init()` run their body in a child process (see
//! `tests/support`).
// With `off`, o11y records nothing: there is nothing to redact. Without
// sqlx, or Sentry and axum, there is no scenario to run.
#![cfg(all(
    not(feature = "off"),
    any(feature = "sqlx", all(feature = "sentry", feature = "axum"))
))]

use o11y_test_support as common;

use std::fmt;

use common::secrets::*;
use o11y::task::Envelope;

/// Declined, saying why with every secret in it.
#[derive(Debug)]
struct Declined;

impl fmt::Display for Declined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "order 4242 declined: {}", all_patterns())
    }
}

impl std::error::Error for Declined {}

/// A task's payload: secrets the patterns find, a password only its name
/// gives away, and an order number that is none.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Payment {
    order: u64,
    contact: String,
    card: String,
    password: String,
}

fn payment() -> Envelope<Payment> {
    let payment = Payment {
        order: 4242,
        contact: EMAIL.to_owned(),
        card: CARD.to_owned(),
        password: PASSWORD.to_owned(),
    };
    Envelope::builder("settle", payment)
        .baggage(format!("session={JWT},tenant=acme"))
        .build()
}

/// Puts three of its payload's fields on the span (the password found by
/// its name, the contact by its text), logs what the patterns can find in
/// it as one `Debug` text, and fails with every secret in its error.
///
/// Not the whole payload's `Debug`: a name inside a text is not a field's
/// name, and only the patterns look into texts.
#[o11y::task_traced(fields(password = job.payload.password.as_str(), contact = job.payload.contact.as_str(), order = job.payload.order))]
fn settle(job: Envelope<Payment>) -> Result<(), Declined> {
    let payment = &job.payload;
    let payload = (payment.order, &payment.contact, &payment.card);
    tracing::info!(payload = ?payload, "settling order {}", payment.order);
    Err(Declined)
}

#[cfg(all(feature = "sentry", feature = "axum"))]
mod sentry {
    use super::*;

    use axum::Router;
    use axum::extract::Extension;
    use axum::routing::get;
    use common::SentryReceiver;
    use common::http::{assert_status, get_from, urlencode};
    use common::scenario::{o11y_child, report, reported};
    use common::server::serve;
    use opentelemetry::baggage::BaggageExt;
    use serde_json::{Value, json};
    use tower_http::catch_panic::CatchPanicLayer;

    #[o11y::observe(args(password), err)]
    fn charge(password: &str) -> Result<(), Declined> {
        let _ = password;
        Err(Declined)
    }

    async fn pay(baggage: Option<Extension<opentelemetry::Context>>) -> &'static str {
        let tenant = baggage.and_then(|Extension(context)| {
            context
                .baggage()
                .get("tenant")
                .map(|value| value.as_str().to_owned())
        });
        report("tenant", json!(tenant));
        assert!(o11y::http::set_user(EMAIL), "inside a request");
        panic!("payment failed: {}", all_patterns());
    }

    /// The one event whose exception's (or message's) text starts with `text`.
    #[track_caller]
    fn event_saying<'a>(events: &'a [Value], text: &str) -> &'a Value {
        let says = |event: &&Value| {
            let said = event["exception"]["values"][0]["value"]
                .as_str()
                .or_else(|| event["message"].as_str())
                .or_else(|| event["logentry"]["message"].as_str());
            said.is_some_and(|said| said.starts_with(text))
        };
        let found: Vec<&Value> = events.iter().filter(says).collect();
        assert_eq!(found.len(), 1, "one event saying {text:?}: {events:#?}");
        found[0]
    }

    #[test]
    fn secrets_reach_no_sentry_event() {
        let sentry = SentryReceiver::start();
        let output = o11y_child("sentry::secrets_reach_no_sentry_event")
            .env("SENTRY_DSN", sentry.dsn())
            .env("RUST_BACKTRACE", "0")
            .run(|| {
                let guard = o11y::init().expect("init");
                assert!(charge(PASSWORD).is_err());

                let app = Router::new()
                    .route("/pay", get(pay))
                    .layer(o11y::http::layer())
                    .layer(CatchPanicLayer::new());
                let (addr, runtime) = serve(app);
                let path = format!(
                    "/pay?password={}&email={}&page=2",
                    urlencode(PASSWORD),
                    urlencode(EMAIL)
                );
                let bearer = format!("Bearer {BEARER}");
                let cookie = format!("session={JWT}");
                let baggage = format!("user={EMAIL},tenant=acme");
                let paid = get_from(
                    addr,
                    &path,
                    &[
                        ("authorization", &bearer),
                        ("cookie", &cookie),
                        ("x-api-key", AWS_KEY),
                        ("baggage", &baggage),
                        ("x-request-id", "req-corpus-1"),
                    ],
                );
                assert_status(&paid, 500);
                drop(runtime);

                assert!(settle(payment()).is_err());

                // The application's own report, through o11y's client.
                o11y::sentry::add_breadcrumb(o11y::sentry::Breadcrumb {
                    message: Some(format!("visited {EMAIL}")),
                    ..Default::default()
                });
                o11y::sentry::with_scope(
                    |scope| {
                        scope.set_tag("password", PASSWORD);
                        scope.set_tag("tier", "gold");
                        scope.set_extra("note", json!(all_patterns()));
                        scope.set_extra("order", json!(4242));
                    },
                    || {
                        o11y::sentry::capture_message(
                            &format!("manual report: {}", all_patterns()),
                            o11y::sentry::Level::Warning,
                        )
                    },
                );
                drop(guard);
            });
        // Not the console: the standard panic hook, which o11y keeps,
        // prints the panic's message on stderr as it was.
        assert_no_secret("the Sentry envelopes", &sentry.everything());
        assert_eq!(reported(&output, "tenant"), "acme", "the baggage was read");

        let events = sentry.events();
        assert_eq!(events.len(), 4, "{events:#?}");
        // The error returned by `charge`, and the task's.
        let declined = format!("order 4242 declined: {ALL_REDACTED}");
        let failures: Vec<&Value> = events
            .iter()
            .filter(|event| event["exception"]["values"][0]["value"] == declined.as_str())
            .collect();
        assert_eq!(failures.len(), 2, "{events:#?}");
        assert_eq!(
            failures
                .iter()
                .filter(|event| event["transaction"] == "process settle")
                .count(),
            1,
            "{failures:#?}"
        );

        let panicked = event_saying(&events, "payment failed");
        assert_eq!(
            panicked["exception"]["values"][0]["value"],
            format!("payment failed: {ALL_REDACTED}").as_str()
        );
        assert_eq!(panicked["tags"]["request_id"], "req-corpus-1");
        assert_eq!(panicked["transaction"], "GET /pay");

        let manual = event_saying(&events, "manual report");
        let said = manual["message"]
            .as_str()
            .or_else(|| manual["logentry"]["message"].as_str());
        assert_eq!(
            said,
            Some(format!("manual report: {ALL_REDACTED}").as_str()),
            "{manual:#}"
        );
        assert_eq!(manual["level"], "warning");
        assert_eq!(manual["tags"]["password"], "[REDACTED]", "{manual:#}");
        assert_eq!(manual["tags"]["tier"], "gold", "{manual:#}");
        assert_eq!(manual["extra"]["note"], ALL_REDACTED, "{manual:#}");
        assert_eq!(manual["extra"]["order"], 4242, "{manual:#}");
        let crumbs = manual["breadcrumbs"]["values"]
            .as_array()
            .expect("the breadcrumb");
        assert_eq!(crumbs[0]["message"], "visited [REDACTED]", "{manual:#}");
    }
}

#[cfg(feature = "sqlx")]
mod sql {
    use super::*;

    use std::time::Duration;

    use common::scenario::{current_thread_runtime, json_lines, log_line, o11y_child};

    #[o11y::observe]
    async fn register(pool: &sqlx::SqlitePool) -> usize {
        let insert = format!(
            "INSERT INTO accounts (id, email, password, note) \
             VALUES (4242, '{EMAIL}', '{PASSWORD}', '{}')",
            all_patterns().replace('\'', "''")
        );
        sqlx::query(&insert).execute(pool).await.expect("insert");
        let select =
            format!("SELECT id FROM accounts WHERE email = '{EMAIL}' AND password = '{PASSWORD}'");
        sqlx::query(&select)
            .fetch_all(pool)
            .await
            .expect("select")
            .len()
    }

    #[test]
    fn sql_literals_task_payloads_and_baggage_reach_no_span_or_log_line() {
        let Some(rotel) = common::Rotel::start() else {
            return;
        };
        let output =
            o11y_child("sql::sql_literals_task_payloads_and_baggage_reach_no_span_or_log_line")
                .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
                .env("O11Y_LOGGING_OTLP_ENABLED", "true")
                .env("O11Y_LOGGING_FORMAT", "json")
                .run(|| {
                    let guard = o11y::init().expect("init");
                    let runtime = current_thread_runtime();
                    runtime.block_on(async {
                        let pool = sqlx::sqlite::SqlitePoolOptions::new()
                            .max_connections(1)
                            .connect("sqlite::memory:")
                            .await
                            .expect("SQLite in memory");
                        sqlx::query(
                        "CREATE TABLE accounts (id INTEGER, email TEXT, password TEXT, note TEXT)",
                    )
                    .execute(&pool)
                    .await
                    .expect("create");
                        assert_eq!(register(&pool).await, 1);
                        pool.close().await;
                    });
                    let job: Envelope<Payment> =
                        serde_json::from_str(&serde_json::to_string(&payment()).unwrap()).unwrap();
                    assert_eq!(
                        job.trace.baggage.as_deref(),
                        Some(format!("session={JWT},tenant=acme").as_str()),
                        "the baggage travels in the envelope"
                    );
                    assert!(settle(job).is_err());
                    drop(runtime);
                    drop(guard);
                });
        assert_no_secret("the console output", &output.combined());
        let lines = json_lines(&output);
        let settling = log_line(&lines, "settling order 4242");
        let payload = settling["payload"].as_str().expect("the payload's Debug");
        assert!(
            payload == "(4242, \"[REDACTED]\", \"[REDACTED]\")",
            "{settling}"
        );
        let failed = lines
            .iter()
            .find(|line| line["event"] == "task_failed")
            .expect("the task_failed line");
        assert_eq!(
            failed["error"],
            format!("order 4242 declined: {ALL_REDACTED}"),
            "{failed}"
        );

        let spans = rotel.wait_for_spans(Duration::from_secs(15), |spans| {
            spans.iter().any(|s| s["name"] == "INSERT accounts")
                && spans.iter().any(|s| s["name"] == "process settle")
        });
        let logs = rotel.wait_for_logs(Duration::from_secs(15), |logs| {
            logs.iter().any(|l| {
                l["body"]
                    .as_str()
                    .is_some_and(|b| b.starts_with("settling"))
            })
        });
        assert_rotel_received_no_secret(&spans, &logs);
        let insert = spans
            .iter()
            .find(|s| s["name"] == "INSERT accounts")
            .expect("the INSERT span");
        assert_eq!(
            insert["attributes"]["db.query.text"],
            "INSERT INTO accounts (id, email, password, note) VALUES (?, ?, ?, ?)",
            "{insert}"
        );
        let select = spans
            .iter()
            .find(|s| s["name"] == "SELECT accounts")
            .expect("the SELECT span");
        assert_eq!(
            select["attributes"]["db.query.text"],
            "SELECT id FROM accounts WHERE email = ? AND password = ?",
            "{select}"
        );
        let run = spans
            .iter()
            .find(|s| s["name"] == "process settle")
            .expect("the task run's span");
        assert_eq!(run["attributes"]["password"], "[REDACTED]", "{run}");
        assert_eq!(run["attributes"]["contact"], "[REDACTED]", "{run}");
        assert_eq!(run["attributes"]["order"], 4242, "{run}");
        let exception = run["events"]
            .as_array()
            .and_then(|events| events.iter().find(|e| e["name"] == "exception"))
            .expect("the exception event");
        assert_eq!(
            exception["attributes"]["exception.message"],
            format!("order 4242 declined: {ALL_REDACTED}").as_str()
        );
    }
}
