//! The handler against a store of its own (no `init()`): access, routing,
//! the receiver's answers, escaping, and the trace page's query groups.

use std::net::IpAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, StatusCode};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, span};
use prost::Message;

use super::pages::trace::query_groups;
use super::{Settings, respond};
use crate::console_store::{
    Bounds, Level, SpanKind, Store, StoredLog, StoredSpan, TraceView, parse_trace_id,
};
use crate::metrics::server::AccessRules;

fn settings(allow_from: &[&str]) -> Settings {
    Settings {
        enabled: true,
        rules: AccessRules {
            allow_from: allow_from.iter().map(|net| net.parse().unwrap()).collect(),
            bearer_token: None,
        },
        max_body_bytes: 1024,
    }
}

fn loopback() -> Settings {
    settings(&["127.0.0.0/8", "::1/128"])
}

fn store() -> Store {
    Store::new(
        Bounds {
            max_traces: 100,
            max_bytes: 1 << 20,
        },
        "quickstart",
    )
}

fn local() -> Option<IpAddr> {
    Some([127, 0, 0, 1].into())
}

fn get(path: &str) -> Request<Bytes> {
    Request::get(path).body(Bytes::new()).unwrap()
}

fn body(response: &http::Response<Bytes>) -> String {
    String::from_utf8(response.body().to_vec()).unwrap()
}

fn span(id: u8, parent: Option<u8>, name: &str, attributes: &[(&str, &str)]) -> StoredSpan {
    StoredSpan {
        trace_id: [0xab; 16],
        span_id: [id; 8],
        parent_span_id: parent.map(|p| [p; 8]),
        service: Arc::from("quickstart"),
        name: name.to_owned(),
        kind: if parent.is_none() {
            SpanKind::Server
        } else {
            SpanKind::Internal
        },
        start: 1_000 + u64::from(id) * 10,
        end: 2_000,
        attributes: attributes
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        events: Vec::new(),
        error: None,
    }
}

const TRACE: &str = "abababababababababababababababab";

#[test]
fn clients_outside_allow_from_get_403_and_a_closed_console_404() {
    let store = store();
    let refused = respond(
        &loopback(),
        Some(&store),
        &get("/o11y/"),
        Some([10, 0, 0, 7].into()),
    );
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(body(&refused).contains("dev_console.allow_from"));
    let unknown = respond(&loopback(), Some(&store), &get("/o11y/"), None);
    assert_eq!(unknown.status(), StatusCode::FORBIDDEN, "fail closed");
    let open = respond(
        &settings(&[]),
        Some(&store),
        &get("/o11y/"),
        Some([10, 0, 0, 7].into()),
    );
    assert_eq!(
        open.status(),
        StatusCode::OK,
        "an empty list lets every client in"
    );

    let off = Settings {
        enabled: false,
        ..loopback()
    };
    assert_eq!(
        respond(&off, Some(&store), &get("/o11y/"), local()).status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        respond(&loopback(), None, &get("/o11y/"), local()).status(),
        StatusCode::NOT_FOUND
    );
}

#[test]
fn every_page_answers_and_unknown_paths_get_404() {
    let store = store();
    store.add_spans(vec![span(
        1,
        None,
        "GET /orders",
        &[("http.route", "/orders")],
    )]);
    for path in [
        "/o11y/",
        "/o11y/logs?level=warn",
        "/o11y/n-plus-one",
        "/o11y/metrics",
        &format!("/o11y/trace/{TRACE}"),
    ] {
        let response = respond(&loopback(), Some(&store), &get(path), local());
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "{path}: {}",
            body(&response)
        );
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
    }
    let generation = respond(&loopback(), Some(&store), &get("/o11y/generation"), local());
    assert_eq!(body(&generation), store.generation().to_string());
    assert_eq!(
        respond(&loopback(), Some(&store), &get("/o11y"), local()).status(),
        StatusCode::FOUND
    );
    for path in [
        "/o11y/nope",
        "/o11y/trace/xyz",
        &format!("/o11y/trace/{}", "cd".repeat(16)),
    ] {
        assert_eq!(
            respond(&loopback(), Some(&store), &get(path), local()).status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let post = Request::post("/o11y/").body(Bytes::new()).unwrap();
    assert_eq!(
        respond(&loopback(), Some(&store), &post, local()).status(),
        StatusCode::METHOD_NOT_ALLOWED
    );
}

#[test]
fn application_strings_are_escaped_on_every_page() {
    let store = store();
    let hostile = "<script>alert(1)</script>";
    store.add_spans(vec![span(
        1,
        None,
        hostile,
        &[("http.route", hostile), ("note", hostile)],
    )]);
    store.add_logs(vec![StoredLog {
        time: 1_500,
        level: Level::Warn,
        target: "app".into(),
        message: hostile.into(),
        attributes: vec![("field".into(), hostile.into())],
        trace_id: Some([0xab; 16]),
        span_id: Some([1; 8]),
        service: Arc::from("quickstart"),
    }]);
    for path in ["/o11y/", "/o11y/logs", &format!("/o11y/trace/{TRACE}")] {
        let page = body(&respond(&loopback(), Some(&store), &get(path), local()));
        assert!(!page.contains(hostile), "{path} has the raw tag:\n{page}");
        assert!(
            page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{path}:\n{page}"
        );
    }
}

fn export_request(spans: Vec<Span>) -> Vec<u8> {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![KeyValue {
                    key: "service.name".into(),
                    value: Some(AnyValue {
                        value: Some(any_value::Value::StringValue("worker".into())),
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

fn post(path: &str, content_type: &str, body: Vec<u8>) -> Request<Bytes> {
    Request::post(path)
        .header("content-type", content_type)
        .body(Bytes::from(body))
        .unwrap()
}

#[test]
fn the_receiver_puts_another_process_s_spans_on_the_trace_page() {
    let store = store();
    store.add_spans(vec![span(1, None, "POST /orders", &[])]);
    let consumer = Span {
        trace_id: vec![0xab; 16],
        span_id: vec![9; 8],
        parent_span_id: vec![1; 8],
        name: "process_order".into(),
        kind: span::SpanKind::Consumer as i32,
        start_time_unix_nano: 1_500,
        end_time_unix_nano: 1_900,
        ..Default::default()
    };
    let response = respond(
        &loopback(),
        Some(&store),
        &post(
            "/o11y/v1/traces",
            "application/x-protobuf",
            export_request(vec![consumer]),
        ),
        local(),
    );
    assert_eq!(response.status(), StatusCode::OK, "{}", body(&response));
    assert_eq!(response.headers()["content-type"], "application/x-protobuf");
    let page = body(&respond(
        &loopback(),
        Some(&store),
        &get(&format!("/o11y/trace/{TRACE}")),
        local(),
    ));
    assert!(
        page.contains("process_order") && page.contains("worker"),
        "{page}"
    );
    let trace = store.trace(&parse_trace_id(TRACE).unwrap()).unwrap();
    assert_eq!(trace.spans.len(), 2);
}

#[test]
fn the_receiver_refuses_what_it_cannot_read() {
    let store = store();
    let json = respond(
        &loopback(),
        Some(&store),
        &post("/o11y/v1/traces", "application/json", b"{}".to_vec()),
        local(),
    );
    assert_eq!(json.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(body(&json).contains("http/protobuf"), "{}", body(&json));
    let garbage = respond(
        &loopback(),
        Some(&store),
        &post("/o11y/v1/logs", "application/x-protobuf", vec![0xff; 8]),
        local(),
    );
    assert_eq!(garbage.status(), StatusCode::BAD_REQUEST);
    let big = respond(
        &loopback(),
        Some(&store),
        &post("/o11y/v1/traces", "application/x-protobuf", vec![0; 2048]),
        local(),
    );
    assert_eq!(big.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(body(&big).contains("dev_console.max_body_bytes"));
    let get_receiver = respond(&loopback(), Some(&store), &get("/o11y/v1/traces"), local());
    assert_eq!(get_receiver.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(store.usage().0, 0, "nothing stored");
}

#[test]
fn queries_group_by_fingerprint_and_the_n_plus_one_group_is_marked() {
    let mut spans = vec![span(1, None, "GET /orders", &[])];
    for (i, id) in (10..18).enumerate() {
        let text = format!("SELECT * FROM items WHERE order_id = {}", i + 1);
        spans.push(span(
            id,
            Some(1),
            "SELECT items",
            &[("db.system", "sqlite"), ("db.query.text", &text)],
        ));
    }
    spans.push(span(
        30,
        Some(1),
        "SELECT orders",
        &[
            ("db.system", "sqlite"),
            ("db.query.text", "SELECT * FROM orders"),
        ],
    ));
    let warning = StoredLog {
        time: 1_900,
        level: Level::Warn,
        target: "o11y::db".into(),
        message: "n_plus_one_detected".into(),
        attributes: vec![(
            "fingerprint".into(),
            "SELECT * FROM items WHERE order_id = ?".into(),
        )],
        trace_id: Some([0xab; 16]),
        span_id: Some([1; 8]),
        service: Arc::from("quickstart"),
    };
    let groups = query_groups(&TraceView {
        spans,
        logs: vec![warning],
    });
    assert_eq!(groups.len(), 2, "{groups:#?}");
    assert_eq!(
        groups[0].fingerprint,
        "SELECT * FROM items WHERE order_id = ?"
    );
    assert_eq!((groups[0].count, groups[0].n_plus_one), (8, true));
    assert_eq!((groups[1].count, groups[1].n_plus_one), (1, false));
}
