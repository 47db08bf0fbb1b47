//! W3C Trace Context Level 2 through the public API, in and out: service A
//! (behind `o11y::http::layer()`) receives a `traceparent` and
//! `tracestate`, tells what its handler sees (`TraceContext::current()`,
//! the trace context of an `Envelope` it publishes) and calls service B
//! through `o11y::http::client`; B, behind the layer too, tells what it
//! received. At every combination of the `sampled` and `random` flags, and
//! for a trace A starts itself:
//! - the `random` flag goes on unchanged to the handler's context, the
//!   envelope, B's request and every exported span of the trace, and is
//!   set on the traces o11y starts;
//! - a `tracestate` with a duplicated key is passed on with the duplicate
//!   removed, keys with `@` after their first character (`foo@`,
//!   `foo@@bar`), more than 13 characters after an `@` or 256 characters
//!   long are kept, and an invalid list is dropped whole while the trace
//!   goes on;
//! - what rotel receives carries the same state and flags; an unsampled
//!   trace is exported nowhere.
//!
//! Tests that call `o11y::init()` run their body in a child process (see
//! `tests/support`).
#![cfg(all(feature = "axum", feature = "reqwest", not(feature = "off")))]

use o11y_test_support as common;

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::get;
use common::http::{assert_status, get_from};
use common::scenario::{o11y_child, report, reported, traceparent_parts};
use common::server::{runtime, serve_on};
use o11y::http::reqwest_middleware::ClientWithMiddleware;
use o11y::task::{Envelope, TraceContext};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------
// The two services.

/// A handler's view of its trace: the context it would hand on.
fn context_json(context: &TraceContext) -> Value {
    json!({ "traceparent": context.traceparent, "tracestate": context.tracestate })
}

/// B: what its request carried, and its own view of the trace.
async fn received(headers: HeaderMap) -> String {
    let header = |name: &str| {
        headers
            .get(name)
            .map(|value| value.to_str().expect("ASCII header").to_owned())
    };
    json!({
        "traceparent": header("traceparent"),
        "tracestate": header("tracestate"),
        "seen": context_json(&TraceContext::current()),
    })
    .to_string()
}

#[derive(Clone)]
struct A {
    client: ClientWithMiddleware,
    b: SocketAddr,
}

/// A: its view of the trace, an envelope's, and what B answered.
async fn relay(State(a): State<A>) -> String {
    let seen = context_json(&TraceContext::current());
    let envelope = Envelope::new("relay_task", ());
    let response = a
        .client
        .get(format!("http://{}/received", a.b))
        .send()
        .await
        .expect("B answers");
    let b: Value = serde_json::from_str(&response.text().await.expect("B's body")).expect("JSON");
    json!({ "seen": seen, "envelope": context_json(&envelope.trace), "b": b }).to_string()
}

/// Both services, A calling B through `o11y::http::client`.
fn services(runtime: &tokio::runtime::Runtime) -> SocketAddr {
    let b = Router::new()
        .route("/received", get(received))
        .layer(o11y::http::layer());
    let b = serve_on(runtime, b);
    let a = A {
        client: o11y::http::client(reqwest::Client::new()),
        b,
    };
    let a = Router::new()
        .route("/relay", get(relay))
        .with_state(a)
        .layer(o11y::http::layer());
    serve_on(runtime, a)
}

// ---------------------------------------------------------------------------
// What is sent, and what must come out.

/// A 256-character key, and one with 20 characters after its `@`: valid by
/// Level 2, refused by the opentelemetry crate's `TraceState`.
fn long_keys() -> (String, String) {
    (
        format!("k{}", "0".repeat(255)),
        format!("t@{}", "v".repeat(20)),
    )
}

/// The `tracestate` headers A receives: two, joined into one list, with
/// white space, an empty member and `vendor` twice.
fn sent_tracestate() -> [String; 2] {
    let (long, long_system) = long_keys();
    [
        format!(" vendor=first ,foo@=2,\t,foo@@bar=3, {long}=4"),
        format!("vendor=second,{long_system}=5,foo@bar@baz=6 "),
    ]
}

/// What every participant must pass on: the same list, `vendor` once (its
/// first member), in order, without the white space.
fn passed_on_tracestate() -> String {
    let (long, long_system) = long_keys();
    format!("vendor=first,foo@=2,foo@@bar=3,{long}=4,{long_system}=5,foo@bar@baz=6")
}

/// A case: the flags A's caller sends (`None`: no `traceparent`, A starts
/// the trace), and whether its `tracestate` is a valid one.
struct Case {
    name: &'static str,
    flags: Option<&'static str>,
    valid_state: bool,
}

const CASES: &[Case] = &[
    Case {
        name: "sampled",
        flags: Some("01"),
        valid_state: true,
    },
    Case {
        name: "sampled_random",
        flags: Some("03"),
        valid_state: true,
    },
    Case {
        name: "unsampled",
        flags: Some("00"),
        valid_state: true,
    },
    Case {
        name: "unsampled_random",
        flags: Some("02"),
        valid_state: true,
    },
    // Unknown flags are not passed on: only `sampled` and `random` are
    // defined.
    Case {
        name: "reserved_flags",
        flags: Some("ff"),
        valid_state: true,
    },
    // An upper-case key breaks the grammar: the list goes, the trace stays.
    Case {
        name: "invalid_state",
        flags: Some("03"),
        valid_state: false,
    },
    Case {
        name: "started_here",
        flags: None,
        valid_state: false,
    },
];

impl Case {
    /// The flags every `traceparent` of the trace must carry: the caller's
    /// `sampled` (dev samples every trace, parent-based) and `random` bits,
    /// or both for a trace o11y starts (its ids are random).
    fn expected_flags(&self) -> &'static str {
        match self.flags {
            Some("ff") => "03",
            Some(flags) => flags,
            None => "03",
        }
    }

    fn expected_tracestate(&self) -> Option<String> {
        (self.flags.is_some() && self.valid_state).then(passed_on_tracestate)
    }

    fn sampled(&self) -> bool {
        self.expected_flags() == "01" || self.expected_flags() == "03"
    }
}

#[test]
fn trace_context_level_2_in_and_out() {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    let output = o11y_child("trace_context_level_2_in_and_out")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
        .run(|| {
            let guard = o11y::init().expect("init");
            let runtime = runtime();
            let a = services(&runtime);
            let mut answers = serde_json::Map::new();
            for case in CASES {
                let traceparent = case.flags.map(|flags| {
                    format!(
                        "00-{}-{}-{flags}",
                        common::random_hex(32),
                        common::random_hex(16)
                    )
                });
                let [first, second] = sent_tracestate();
                let first = if case.valid_state {
                    first
                } else {
                    first.replace("foo@=2", "Foo=2")
                };
                let mut headers = vec![
                    ("tracestate", first.as_str()),
                    ("tracestate", second.as_str()),
                ];
                if let Some(traceparent) = &traceparent {
                    headers.push(("traceparent", traceparent));
                }
                let response = get_from(a, "/relay", &headers);
                assert_status(&response, 200);
                answers.insert(
                    case.name.to_owned(),
                    json!({ "traceparent": traceparent, "answer": response.json() }),
                );
            }
            report("answers", Value::Object(answers));
            drop(runtime);
            drop(guard); // flushes
        });
    let answers = reported(&output, "answers");

    let recorded = CASES.iter().filter(|case| case.sampled()).count();
    // Per recorded request: A's server span, its producer and client spans,
    // B's server span.
    rotel.wait_for_spans(Duration::from_secs(15), |spans| spans.len() >= 4 * recorded);
    std::thread::sleep(Duration::from_millis(500));
    let spans = rotel.spans();

    for case in CASES {
        let name = case.name;
        let sent = &answers[name]["traceparent"];
        let answer = &answers[name]["answer"];
        let flags = case.expected_flags();
        let tracestate = case.expected_tracestate();

        // A's handler, its envelope, B's request and B's handler: one trace,
        // the same flags and state everywhere.
        let (trace_id, a_span, a_flags) = traceparent_parts(&answer["seen"]["traceparent"]);
        if sent.is_string() {
            let (sent_trace, sent_parent, _) = traceparent_parts(sent);
            assert_eq!(trace_id, sent_trace, "{name}: the caller's trace");
            assert_ne!(a_span, sent_parent, "{name}: A's own span");
        }
        for (who, context) in [
            ("A's handler", &answer["seen"]),
            ("the envelope", &answer["envelope"]),
            ("B's request", &answer["b"]),
            ("B's handler", &answer["b"]["seen"]),
        ] {
            let (trace, _, seen_flags) = traceparent_parts(&context["traceparent"]);
            assert_eq!(trace, trace_id, "{name}: {who}");
            assert_eq!(seen_flags, flags, "{name}: {who}'s flags");
            assert_eq!(
                context["tracestate"].as_str(),
                tracestate.as_deref(),
                "{name}: {who}'s tracestate"
            );
        }
        assert_eq!(a_flags, flags);

        // What rotel received of the trace.
        let of_trace: Vec<&Value> = spans
            .iter()
            .filter(|s| s["trace_id"] == trace_id.as_str())
            .collect();
        if !case.sampled() {
            assert!(
                of_trace.is_empty(),
                "{name}: an unsampled trace was exported: {of_trace:#?}"
            );
            continue;
        }
        assert_eq!(of_trace.len(), 4, "{name}: {of_trace:#?}");
        let random = flags == "03";
        for span in &of_trace {
            let exported_flags = span["flags"].as_u64().unwrap_or_default() & 0xff;
            assert_eq!(
                exported_flags,
                if random { 0x03 } else { 0x01 },
                "{name}: {span}"
            );
            assert_eq!(
                span["trace_state"].as_str(),
                Some(tracestate.as_deref().unwrap_or_default()),
                "{name}: {span}"
            );
        }
        let kinds: Vec<&str> = of_trace.iter().filter_map(|s| s["kind"].as_str()).collect();
        for kind in ["server", "producer", "client"] {
            assert!(kinds.contains(&kind), "{name}: no {kind} span in {kinds:?}");
        }
    }
}
