//! The outbound middleware (`o11y::http::client`, feature `reqwest`)
//! between two real axum services on loopback, both behind
//! `o11y::http::layer()`: service A answers `/call/{case}` by calling
//! service B through the middleware. What rotel receives must be one trace,
//! A's server span → A's client span → B's server span; B must see the
//! `traceparent` (and `tracestate`) naming A's client span, also when the
//! trace is not sampled; a refused connection is a client span in error;
//! and the client duration histogram has the expected series.
//!
//! Tests that call `o11y::init()` run their body in a child process (see
//! `tests/support`).
#![cfg(all(feature = "axum", feature = "reqwest", not(feature = "off")))]

use o11y_test_support as common;

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::get;
use common::exposition::sample_value;
use common::http::{assert_status, get_from};
use common::scenario::{o11y_child, report, reported, traceparent_parts};
use common::server::{runtime, serve_on};
use o11y::http::reqwest_middleware::ClientWithMiddleware;
use serde_json::{Value, json};

// ---------------------------------------------------------------------------
// The two services.

/// B: answers (JSON) with what it was sent, and the ids of its own server span.
async fn order(Path(id): Path<u64>, headers: HeaderMap) -> String {
    let header = |name: &str| {
        headers
            .get(name)
            .map(|value| value.to_str().expect("ASCII header").to_owned())
    };
    let ids = o11y::trace::current_span_ids();
    json!({
        "id": id,
        "traceparent": header("traceparent"),
        "tracestate": header("tracestate"),
        "request_id": header("x-request-id"),
        "trace_id": ids.as_ref().map(|ids| ids.trace_id.clone()),
        "span_id": ids.as_ref().map(|ids| ids.span_id.clone()),
    })
    .to_string()
}

fn service_b() -> Router {
    Router::new()
        .route("/orders/{id}", get(order))
        .layer(o11y::http::layer())
}

#[derive(Clone)]
struct A {
    client: ClientWithMiddleware,
    /// B's address.
    b: SocketAddr,
    /// A port nothing listens on.
    closed: u16,
}

/// A: calls B (or nothing) as the case says and tells (JSON) what happened.
async fn call(State(a): State<A>, Path(case): Path<String>) -> String {
    let url = match case.as_str() {
        // Credentials and a secret in the query: neither may reach url.full.
        "ok" | "unsampled" | "tracestate" => {
            format!("http://ada:hunter2@{}/orders/7?token=s3cr3t&page=2", a.b)
        }
        "missing" => format!("http://{}/no/such/order", a.b),
        "refused" => format!("http://127.0.0.1:{}/orders/1", a.closed),
        other => panic!("unknown case {other}"),
    };
    let ids = o11y::trace::current_span_ids();
    let (status, body, error) = match a.client.get(&url).send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let body = if status == 200 {
                let text = response.text().await.expect("B's body");
                Some(serde_json::from_str::<Value>(&text).expect("B answers JSON"))
            } else {
                None
            };
            (Some(status), body, None)
        }
        Err(error) => (None, None, Some(error.to_string())),
    };
    json!({
        "status": status,
        "b_addr": a.b.to_string(),
        "b": body,
        "error": error,
        "a_trace_id": ids.as_ref().map(|ids| ids.trace_id.clone()),
        "a_span_id": ids.as_ref().map(|ids| ids.span_id.clone()),
    })
    .to_string()
}

fn service_a(a: A) -> Router {
    Router::new()
        .route("/call/{case}", get(call))
        .with_state(a)
        .layer(o11y::http::layer())
}

/// Both services, A calling B through `o11y::http::client`.
fn services(runtime: &tokio::runtime::Runtime) -> SocketAddr {
    let b = serve_on(runtime, service_b());
    let a = A {
        client: o11y::http::client(reqwest::Client::new()),
        b,
        closed: common::free_port(),
    };
    serve_on(runtime, service_a(a))
}

fn get_json(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Value {
    let response = get_from(addr, path, headers);
    assert_status(&response, 200);
    response.json()
}

/// The one span of `kind` whose attribute `key` is `value`.
#[track_caller]
fn span_with<'a>(spans: &'a [Value], kind: &str, key: &str, value: &str) -> &'a Value {
    let found: Vec<&Value> = spans
        .iter()
        .filter(|s| s["kind"] == kind && s["attributes"][key] == value)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected one {kind} span with {key}={value:?}; all spans:\n{spans:#?}"
    );
    found[0]
}

/// The client spans whose parent is `parent`.
fn children<'a>(spans: &'a [Value], parent: &Value, kind: &str) -> Vec<&'a Value> {
    spans
        .iter()
        .filter(|s| s["kind"] == kind && s["parent_span_id"] == parent["span_id"])
        .collect()
}

// ---------------------------------------------------------------------------

/// What B's request carried as `X-Request-ID` when A called it inside a
/// request that arrived with `X-Request-ID: order-flow.42`, with
/// `http.client.forward_request_id` set to `forward`.
fn request_id_at_b(test_name: &str, forward: &str) -> Value {
    let output = o11y_child(test_name)
        .env("O11Y_HTTP_CLIENT_FORWARD_REQUEST_ID", forward)
        .run(|| {
            let guard = o11y::init().expect("init");
            let runtime = runtime();
            let a = services(&runtime);
            let answer = get_json(a, "/call/ok", &[("x-request-id", "order-flow.42")]);
            report("answer", answer);
            drop(runtime);
            drop(guard);
        });
    reported(&output, "answer")["b"]["request_id"].clone()
}

/// On by default: B's request carries A's id, so both services' log lines
/// share it.
#[test]
fn the_request_id_goes_on_to_the_called_service() {
    let at_b = request_id_at_b("the_request_id_goes_on_to_the_called_service", "true");
    assert_eq!(at_b, "order-flow.42");
}

/// Turned off, B's layer assigns an id of its own.
#[test]
fn without_forwarding_the_called_service_assigns_its_own_id() {
    let at_b = request_id_at_b(
        "without_forwarding_the_called_service_assigns_its_own_id",
        "false",
    );
    let id = at_b
        .as_str()
        .unwrap_or_else(|| panic!("B has an id: {at_b}"));
    assert_ne!(id, "order-flow.42");
    assert_eq!(id.len(), 32, "32 hex digits: {id}");
}

#[test]
fn a_call_between_two_services_is_one_trace() {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    let output = o11y_child("a_call_between_two_services_is_one_trace")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
        .run(|| {
            let guard = o11y::init().expect("init");
            let runtime = runtime();
            let a = services(&runtime);
            let mut answers = serde_json::Map::new();
            answers.insert("ok".into(), get_json(a, "/call/ok", &[]));
            answers.insert("missing".into(), get_json(a, "/call/missing", &[]));
            answers.insert("refused".into(), get_json(a, "/call/refused", &[]));
            // A trace that arrived at A with a tracestate, and one whose
            // caller did not sample it (parent-based: nothing is recorded).
            let sampled = format!(
                "00-{}-{}-01",
                common::random_hex(32),
                common::random_hex(16)
            );
            let tracestate = "vendor=abc,other=x1";
            answers.insert(
                "tracestate".into(),
                get_json(
                    a,
                    "/call/tracestate",
                    &[("traceparent", &sampled), ("tracestate", tracestate)],
                ),
            );
            let unsampled = format!(
                "00-{}-{}-00",
                common::random_hex(32),
                common::random_hex(16)
            );
            answers.insert(
                "unsampled".into(),
                get_json(
                    a,
                    "/call/unsampled",
                    &[("traceparent", &unsampled), ("tracestate", "quiet=1")],
                ),
            );
            report(
                "sent",
                json!({ "sampled": sampled, "unsampled": unsampled, "tracestate": tracestate }),
            );
            report("answers", Value::Object(answers));
            let prometheus = o11y::metrics::render(o11y::metrics::Format::Prometheus);
            let count = |status: &str| {
                sample_value(
                    &prometheus,
                    "http_client_request_duration_seconds_count",
                    &[
                        ("http_request_method", "GET"),
                        ("server_address", "127.0.0.1"),
                        ("http_response_status_code", status),
                    ],
                )
            };
            report("counts", json!([count("200"), count("404"), count("")]));
            report(
                "openmetrics",
                json!(o11y::metrics::render(o11y::metrics::Format::OpenMetrics)),
            );
            drop(runtime);
            drop(guard); // flushes
        });
    let answers = reported(&output, "answers");
    let sent = reported(&output, "sent");

    // Recorded: four calls at A, each with its client span, and three at B
    // (the unsampled trace is recorded nowhere).
    rotel.wait_for_spans(Duration::from_secs(15), |spans| {
        spans.iter().filter(|s| s["kind"] == "client").count() >= 4
            && spans.iter().filter(|s| s["kind"] == "server").count() >= 7
    });
    std::thread::sleep(Duration::from_millis(500));
    let spans = rotel.spans();
    let of_kind = |kind: &str| spans.iter().filter(|s| s["kind"] == kind).count();
    assert_eq!(of_kind("client"), 4, "{spans:#?}");
    assert_eq!(of_kind("server"), 7, "{spans:#?}");

    // One trace: A's server span → A's client span → B's server span.
    let ok = &answers["ok"];
    assert_eq!(ok["status"], 200, "{ok}");
    let a_server = span_with(&spans, "server", "url.path", "/call/ok");
    let trace_id = a_server["trace_id"].as_str().unwrap();
    assert_eq!(a_server["span_id"], ok["a_span_id"], "{a_server}");
    assert_eq!(a_server["parent_span_id"], "", "A's span is the root");
    let clients = children(&spans, a_server, "client");
    assert_eq!(clients.len(), 1, "{clients:#?}");
    let client = clients[0];
    assert_eq!(client["trace_id"], trace_id, "{client}");
    assert_eq!(client["name"], "GET", "{client}");
    assert_eq!(client["scope"], "o11y::http", "{client}");
    assert_eq!(client["status_code"], "unset", "{client}");
    let attributes = &client["attributes"];
    assert_eq!(attributes["http.request.method"], "GET", "{client}");
    assert_eq!(attributes["server.address"], "127.0.0.1", "{client}");
    assert_eq!(attributes["http.response.status_code"], 200, "{client}");
    assert_eq!(attributes["network.protocol.version"], "1.1", "{client}");
    assert!(attributes.get("error.type").is_none(), "{client}");
    // url.full without the token (and without the credentials, which
    // reqwest moves from the URL to an Authorization header), the rest kept.
    let b_addr: SocketAddr = ok["b_addr"].as_str().unwrap().parse().unwrap();
    assert_eq!(attributes["server.port"], b_addr.port(), "{client}");
    assert_eq!(
        attributes["url.full"],
        format!("http://{b_addr}/orders/7?token=REDACTED&page=2"),
        "{client}"
    );
    assert!(!client.to_string().contains("hunter2"), "{client}");
    assert!(!client.to_string().contains("s3cr3t"), "{client}");
    // B continued the trace: its server span's parent is A's client span,
    // which is what the traceparent it received named.
    let b_servers: Vec<&Value> = spans
        .iter()
        .filter(|s| s["kind"] == "server" && s["trace_id"] == trace_id && *s != a_server)
        .collect();
    assert_eq!(b_servers.len(), 1, "{b_servers:#?}");
    let b_server = b_servers[0];
    assert_eq!(
        b_server["attributes"]["url.path"], "/orders/7",
        "{b_server}"
    );
    assert_eq!(b_server["parent_span_id"], client["span_id"], "{b_server}");
    assert_eq!(b_server["name"], "GET /orders/{id}", "{b_server}");
    let (sent_trace, sent_parent, sent_flags) = traceparent_parts(&ok["b"]["traceparent"]);
    assert_eq!(sent_trace, trace_id);
    assert_eq!(sent_parent, client["span_id"].as_str().unwrap());
    // Sampled, and random: the trace started in A, whose ids are random
    // (W3C Trace Context Level 2).
    assert_eq!(sent_flags, "03");
    assert_eq!(ok["b"]["trace_id"], trace_id, "B's handler is in the trace");
    assert_eq!(ok["b"]["tracestate"], Value::Null, "no state to send");
    let in_trace = spans.iter().filter(|s| s["trace_id"] == trace_id).count();
    assert_eq!(in_trace, 3, "A server, A client, B server");

    // B answered 404: the call is a client error (not A's), typed by the status.
    let missing = &answers["missing"];
    assert_eq!(missing["status"], 404, "{missing}");
    let a_missing = span_with(&spans, "server", "url.path", "/call/missing");
    let client = children(&spans, a_missing, "client");
    assert_eq!(client.len(), 1, "{client:#?}");
    let client = client[0];
    assert_eq!(client["status_code"], "error", "{client}");
    assert_eq!(client["attributes"]["error.type"], "404", "{client}");
    assert_eq!(
        client["attributes"]["http.response.status_code"], 404,
        "{client}"
    );
    assert_eq!(a_missing["status_code"], "unset", "A itself answered 200");

    // Nothing listening: an error span typed `connect`, no status code.
    let refused = &answers["refused"];
    assert_eq!(refused["status"], Value::Null, "{refused}");
    assert!(refused["error"].is_string(), "{refused}");
    let a_refused = span_with(&spans, "server", "url.path", "/call/refused");
    let client = children(&spans, a_refused, "client");
    assert_eq!(client.len(), 1, "{client:#?}");
    let client = client[0];
    assert_eq!(client["status_code"], "error", "{client}");
    assert_eq!(client["attributes"]["error.type"], "connect", "{client}");
    assert!(
        client["attributes"]
            .get("http.response.status_code")
            .is_none(),
        "{client}"
    );
    let message = client["status_message"].as_str().unwrap_or_default();
    assert!(
        message.contains("error sending request") && message.contains("onnect"),
        "the status message says why: {client}"
    );

    // A trace that came with a tracestate sends it on to B.
    let (caller_trace, caller_span, _) = traceparent_parts(&sent["sampled"]);
    let stated = &answers["tracestate"];
    assert_eq!(stated["a_trace_id"], caller_trace.as_str(), "{stated}");
    assert_eq!(stated["b"]["trace_id"], caller_trace.as_str(), "{stated}");
    assert_eq!(stated["b"]["tracestate"], sent["tracestate"], "{stated}");
    let a_stated = span_with(&spans, "server", "url.path", "/call/tracestate");
    assert_eq!(a_stated["parent_span_id"], caller_span.as_str());
    let client = children(&spans, a_stated, "client");
    assert_eq!(client.len(), 1, "{client:#?}");
    assert_eq!(
        client[0]["trace_state"], sent["tracestate"],
        "{}",
        client[0]
    );
    let (_, parent, flags) = traceparent_parts(&stated["b"]["traceparent"]);
    assert_eq!(parent, client[0]["span_id"].as_str().unwrap());
    assert_eq!(flags, "01");

    // Not sampled by A's caller: nothing exported, but B still got the trace
    // (flag 00) from A's client span, a new span id under A's own.
    let (caller_trace, caller_span, _) = traceparent_parts(&sent["unsampled"]);
    let unsampled = &answers["unsampled"];
    assert_eq!(unsampled["status"], 200, "{unsampled}");
    let (b_trace, b_parent, b_flags) = traceparent_parts(&unsampled["b"]["traceparent"]);
    assert_eq!(b_trace, caller_trace);
    assert_eq!(b_flags, "00");
    assert_ne!(b_parent, caller_span, "A's client span, not A's caller");
    assert_ne!(
        unsampled["a_span_id"],
        b_parent.as_str(),
        "not A's server span"
    );
    assert_eq!(unsampled["b"]["trace_id"], caller_trace.as_str());
    assert_eq!(
        unsampled["b"]["tracestate"], "quiet=1",
        "the trace's state goes on, recorded or not"
    );
    assert!(
        spans.iter().all(|s| s["trace_id"] != caller_trace.as_str()),
        "an unsampled trace was exported"
    );

    // The duration histogram: one series per status, the refused call with
    // an empty status; three calls got a 200 (ok, tracestate, unsampled).
    assert_eq!(reported(&output, "counts"), json!([3.0, 1.0, 1.0]));
    // A recorded call leaves an exemplar naming its trace. Two recorded
    // calls got a 200 (ok, tracestate) and a bucket keeps its latest
    // exemplar: both may land in one bucket, so either trace will do.
    let openmetrics = reported(&output, "openmetrics");
    let openmetrics = openmetrics.as_str().unwrap();
    let (stated_trace, _, _) = traceparent_parts(&sent["sampled"]);
    let recorded = [trace_id, stated_trace.as_str()];
    assert!(
        openmetrics.lines().any(|line| {
            line.starts_with("http_client_request_duration_seconds_bucket{")
                && line.contains("http_response_status_code=\"200\"")
                && recorded
                    .iter()
                    .any(|t| line.contains(&format!("# {{trace_id=\"{t}\",span_id=\"")))
        }),
        "no exemplar of the recorded traces {recorded:?}:\n{openmetrics}"
    );
}

#[test]
fn before_init_calls_go_out_untouched() {
    // No init() in this (parent) process: o11y is off.
    let runtime = runtime();
    let a = services(&runtime);
    let answer = get_json(a, "/call/ok", &[]);
    assert_eq!(answer["status"], 200, "{answer}");
    assert_eq!(answer["b"]["traceparent"], Value::Null, "{answer}");
    assert_eq!(answer["b"]["trace_id"], Value::Null, "{answer}");
    let text = o11y::metrics::render(o11y::metrics::Format::Prometheus);
    assert_eq!(
        sample_value(
            &text,
            "http_client_request_duration_seconds_count",
            &[
                ("http_request_method", "GET"),
                ("server_address", "127.0.0.1"),
                ("http_response_status_code", "200"),
            ],
        ),
        None,
        "nothing recorded before init()"
    );
}
