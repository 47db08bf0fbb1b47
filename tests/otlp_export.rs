//! Spans reach a real OTLP collector (rotel), over gRPC and over HTTP, in one
//! trace with the right parent/child links and resource attributes; over
//! TLS too (`https://`, through a TLS proxy in front of rotel, trusting a
//! test CA), with every signal.

use o11y_test_support as common;

use std::time::Duration;

use common::scenario::{o11y_child, report, reported, span_named};
#[cfg(feature = "tls")]
use o11y::metrics::{Counter, MetricDesc};
use serde_json::json;

#[tracing::instrument]
fn price(order_id: u64) -> f64 {
    tracing::info!("pricing");
    let ids = o11y::trace::current_span_ids().expect("inside a span");
    report(
        "price",
        json!({ "trace_id": ids.trace_id, "span_id": ids.span_id }),
    );
    9.99 * order_id as f64
}

/// The scenario both protocols run: a server-kind span with a user's
/// `#[tracing::instrument]` function called inside it.
fn checkout() {
    let span = tracing::info_span!("checkout", otel.kind = "server", order_id = 7_u64);
    let _entered = span.enter();
    let ids = o11y::trace::current_span_ids().expect("inside a span");
    report(
        "checkout",
        json!({ "trace_id": ids.trace_id, "span_id": ids.span_id, "sampled": ids.sampled }),
    );
    price(7);
}

/// Where a child exports: its variables, and the TLS proxy in front of
/// rotel, if any, alive until the test ends.
struct Destination {
    vars: Vec<(&'static str, String)>,
    proxy: Option<common::TlsProxy>,
}

/// What a test's `destination` closure returns: the variables (pairs), or
/// a [`Destination`], `None` when a peer it needs is missing (the test is
/// then skipped, as said on stderr).
trait IntoDestination {
    fn into_destination(self) -> Option<Destination>;
}

impl<const N: usize> IntoDestination for [(&'static str, String); N] {
    fn into_destination(self) -> Option<Destination> {
        Some(Destination {
            vars: self.into(),
            proxy: None,
        })
    }
}

impl IntoDestination for Option<Destination> {
    fn into_destination(self) -> Option<Destination> {
        self
    }
}

/// Runs `checkout` in a child exporting to rotel as `destination`'s
/// variables say, and checks what rotel received.
fn spans_reach_rotel<D: IntoDestination>(
    test_name: &str,
    destination: impl FnOnce(&common::Rotel) -> D,
) {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    let Some(destination) = destination(&rotel).into_destination() else {
        return;
    };
    let mut child = o11y_child(test_name);
    for (var, value) in &destination.vars {
        child = child.env(var, value);
    }
    let output = child
        .env("O11Y_SERVICE_VERSION", "1.2.3")
        .env("OTEL_RESOURCE_ATTRIBUTES", "team=payments,region=eu-west")
        .run(|| {
            let guard = o11y::init().expect("init");
            report("pid", json!(std::process::id()));
            checkout();
            drop(guard);
        });
    let checkout_ids = reported(&output, "checkout");
    let price_ids = reported(&output, "price");
    let pid = reported(&output, "pid");
    assert_eq!(
        checkout_ids["sampled"], true,
        "the dev profile samples everything"
    );

    let spans = rotel.wait_for_spans(Duration::from_secs(10), |spans| spans.len() >= 2);
    let outer = span_named(&spans, "checkout");
    let inner = span_named(&spans, "price");

    assert_eq!(outer["trace_id"], checkout_ids["trace_id"]);
    assert_eq!(outer["span_id"], checkout_ids["span_id"]);
    assert_eq!(outer["parent_span_id"], "", "checkout is a root span");
    assert_eq!(outer["kind"], "server");
    assert_eq!(outer["attributes"]["order_id"], 7);

    assert_eq!(inner["trace_id"], outer["trace_id"], "one trace");
    assert_eq!(
        inner["parent_span_id"], outer["span_id"],
        "the instrumented fn is a child of checkout"
    );
    assert_eq!(inner["span_id"], price_ids["span_id"]);
    assert_eq!(inner["kind"], "internal");
    assert_eq!(
        inner["attributes"]["order_id"], 7,
        "#[instrument] records its arguments"
    );
    assert_eq!(
        inner["scope"], "otlp_export",
        "the scope is the span's target"
    );
    assert!(
        inner["attributes"]["code.file.path"]
            .as_str()
            .unwrap()
            .ends_with("otlp_export.rs")
    );

    for span in [outer, inner] {
        let resource = &span["resource"];
        assert_eq!(resource["service.name"], test_name);
        assert_eq!(resource["service.version"], "1.2.3");
        assert_eq!(resource["deployment.environment.name"], "dev");
        assert_eq!(resource["process.pid"], pid);
        assert_eq!(resource["team"], "payments");
        assert_eq!(resource["region"], "eu-west");
        let host = resource["host.name"].as_str().expect("host.name");
        assert!(!host.is_empty());
        assert_eq!(resource["service.instance.id"], format!("{host}:{pid}"));
    }
    if let Some(proxy) = &destination.proxy {
        assert!(
            proxy
                .log()
                .contains("tls_proxy: connection from 127.0.0.1:"),
            "the spans went through the TLS proxy:\n{}",
            proxy.log()
        );
    }
}

#[test]
fn spans_reach_rotel_over_grpc() {
    spans_reach_rotel("spans_reach_rotel_over_grpc", |rotel| {
        [
            ("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint()),
            ("O11Y_TRACING_OTLP_PROTOCOL", "grpc".into()),
        ]
    });
}

#[test]
fn spans_reach_rotel_over_http() {
    spans_reach_rotel("spans_reach_rotel_over_http", |rotel| {
        [
            ("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.http_endpoint()),
            ("O11Y_TRACING_OTLP_PROTOCOL", "http".into()),
        ]
    });
}

/// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` alone: the whole URL, used as written.
#[test]
fn spans_reach_rotel_at_their_own_endpoint() {
    spans_reach_rotel("spans_reach_rotel_at_their_own_endpoint", |rotel| {
        [
            (
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                format!("{}/v1/traces", rotel.http_endpoint()),
            ),
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf".into()),
        ]
    });
}

#[test]
fn errors_mark_the_span_and_warnings_become_events() {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    o11y_child("errors_mark_the_span_and_warnings_become_events")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
        .run(|| {
            let guard = o11y::init().expect("init");
            tracing::info_span!("flaky").in_scope(|| {
                tracing::warn!(attempt = 2, "retrying");
                tracing::error!("gave up");
            });
            tracing::info_span!("fine").in_scope(|| tracing::info!("nothing to see"));
            // `Ok` set by the application is final.
            tracing::info_span!("handled", otel.status_code = "ok").in_scope(|| {
                tracing::error!("retried after a transient failure");
            });
            tracing::info_span!(
                "described",
                otel.status_code = "error",
                otel.status_description = "db down"
            )
            .in_scope(|| {});
            drop(guard);
        });
    let spans = rotel.wait_for_spans(Duration::from_secs(10), |spans| spans.len() >= 4);
    let flaky = span_named(&spans, "flaky");
    assert_eq!(flaky["status_code"], "error");
    assert_eq!(flaky["status_message"], "gave up");
    let events = flaky["events"].as_array().expect("events");
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0]["name"], "retrying");
    assert_eq!(events[0]["attributes"]["attempt"], 2);
    assert_eq!(events[0]["attributes"]["level"], "WARN");
    let fine = span_named(&spans, "fine");
    assert_eq!(fine["status_code"], "unset");
    assert_eq!(
        fine["events"].as_array().map(Vec::len),
        Some(0),
        "info events stay in the logs"
    );
    let handled = span_named(&spans, "handled");
    assert_eq!(handled["status_code"], "ok", "{handled}");
    assert_eq!(handled["events"].as_array().map(Vec::len), Some(1));
    let described = span_named(&spans, "described");
    assert_eq!(described["status_code"], "error", "{described}");
    assert_eq!(described["status_message"], "db down", "{described}");
    assert!(
        described["attributes"]
            .get("otel.status_description")
            .is_none(),
        "{described}"
    );
}

#[test]
fn sampling_rate_zero_sends_no_span_but_logs_keep_ids() {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    let output = o11y_child("sampling_rate_zero_sends_no_span_but_logs_keep_ids")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
        .env("O11Y_TRACING_SAMPLE_RATE", "0")
        .run(|| {
            let guard = o11y::init().expect("init");
            tracing::info_span!("unsampled").in_scope(|| {
                let ids = o11y::trace::current_span_ids().expect("inside a span");
                report(
                    "ids",
                    json!({ "trace_id": ids.trace_id, "sampled": ids.sampled }),
                );
                tracing::info!("still correlated");
            });
            drop(guard);
        });
    let ids = reported(&output, "ids");
    assert_eq!(ids["sampled"], false);
    let lines = common::scenario::json_lines(&output);
    let line = common::scenario::log_line(&lines, "still correlated");
    assert_eq!(line["trace_id"], ids["trace_id"]);
    // rotel batches for ~200 ms; the child flushed on exit, so 1 s is plenty.
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        rotel.spans().is_empty(),
        "no span is sent at rate 0: {:?}",
        rotel.spans()
    );
}

// Export to `https://` endpoints (feature `tls`): rotel behind a
// TLS-terminating proxy.

/// A test CA and what it signed, as PEM (rcgen, ECDSA P-256): the proxy's
/// certificate, for `127.0.0.1` and `localhost`, and a client's, as the
/// files `client.pem` and `client.key` of the proxy's directory. With
/// `require_client_certificate`, the proxy accepts only clients presenting
/// a certificate of that CA.
#[cfg(feature = "tls")]
fn test_certificates(require_client_certificate: bool) -> common::ServerTls {
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose,
        IsCa, KeyPair, KeyUsagePurpose,
    };
    let mut params = CertificateParams::default();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(DnType::CommonName, "o11y test CA");
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
    let signed = |names: &[&str], usage: ExtendedKeyUsagePurpose| {
        let key = KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|name| name.to_string()).collect();
        let mut params = CertificateParams::new(names.clone()).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, names[0].as_str());
        params.extended_key_usages = vec![usage];
        let certificate = params.signed_by(&key, &ca).unwrap();
        (certificate.pem(), key.serialize_pem())
    };
    let (cert_pem, key_pem) = signed(
        &["127.0.0.1", "localhost"],
        ExtendedKeyUsagePurpose::ServerAuth,
    );
    let (client_pem, client_key) =
        signed(&["client.o11y.test"], ExtendedKeyUsagePurpose::ClientAuth);
    common::ServerTls {
        ca_pem: ca.pem(),
        cert_pem,
        key_pem,
        require_client_certificate,
        files: vec![("client.pem", client_pem), ("client.key", client_key)],
    }
}

/// Exports to `https://` a TLS proxy in front of rotel's `port` (its gRPC
/// or HTTP one, as `protocol` says), trusting the test CA through
/// `OTEL_EXPORTER_OTLP_CERTIFICATE`, and with a client certificate through
/// `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE` and `OTEL_EXPORTER_OTLP_CLIENT_KEY`
/// when the proxy asks for one.
#[cfg(feature = "tls")]
fn through_tls_proxy(
    port: u16,
    protocol: &str,
    require_client_certificate: bool,
) -> Option<Destination> {
    let proxy = common::TlsProxy::start(port, || test_certificates(require_client_certificate))?;
    let path = |name: &str| proxy.file(name).display().to_string();
    let mut vars = vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", proxy.endpoint()),
        ("O11Y_TRACING_OTLP_PROTOCOL", protocol.to_owned()),
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", path("ca.pem")),
    ];
    if require_client_certificate {
        vars.push(("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", path("client.pem")));
        vars.push(("OTEL_EXPORTER_OTLP_CLIENT_KEY", path("client.key")));
    }
    Some(Destination {
        vars,
        proxy: Some(proxy),
    })
}

#[test]
#[cfg(feature = "tls")]
fn spans_reach_rotel_over_grpc_with_tls() {
    spans_reach_rotel("spans_reach_rotel_over_grpc_with_tls", |rotel| {
        through_tls_proxy(rotel.grpc_port(), "grpc", false)
    });
}

#[test]
#[cfg(feature = "tls")]
fn spans_reach_rotel_over_http_with_tls() {
    spans_reach_rotel("spans_reach_rotel_over_http_with_tls", |rotel| {
        through_tls_proxy(rotel.http_port(), "http", false)
    });
}

/// Mutual TLS, from the traces' own variables, which win over the general
/// ones (whose CA file does not exist here).
#[test]
#[cfg(feature = "tls")]
fn spans_reach_rotel_with_a_client_certificate_from_the_traces_variables() {
    spans_reach_rotel(
        "spans_reach_rotel_with_a_client_certificate_from_the_traces_variables",
        |rotel| {
            let proxy = common::TlsProxy::start(rotel.http_port(), || test_certificates(true))?;
            let path = |name: &str| proxy.file(name).display().to_string();
            let vars = vec![
                (
                    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                    format!("{}/v1/traces", proxy.endpoint()),
                ),
                ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf".into()),
                (
                    "OTEL_EXPORTER_OTLP_CERTIFICATE",
                    "/nonexistent/ca.pem".into(),
                ),
                ("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", path("ca.pem")),
                (
                    "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
                    path("client.pem"),
                ),
                ("OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", path("client.key")),
            ];
            Some(Destination {
                vars,
                proxy: Some(proxy),
            })
        },
    );
}

#[cfg(feature = "tls")]
static SEALED: Counter = Counter::new(MetricDesc::counter(
    "otlp_tls_test_sealed_total",
    "Parcels sealed (exported over TLS)",
));
#[cfg(feature = "tls")]
o11y::register_metric!(SEALED);

/// Spans, log records and metrics reach rotel through the TLS proxy in
/// front of its `protocol` port, which asks for a client certificate.
#[cfg(feature = "tls")]
fn every_signal_reaches_rotel_over_tls(test_name: &str, protocol: &str) {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    let port = match protocol {
        "grpc" => rotel.grpc_port(),
        _ => rotel.http_port(),
    };
    let Some(destination) = through_tls_proxy(port, protocol, true) else {
        return;
    };
    let mut child = o11y_child(test_name);
    for (var, value) in &destination.vars {
        child = child.env(var, value);
    }
    child
        .env("O11Y_LOGGING_OTLP_ENABLED", "true")
        .env("O11Y_METRICS_OTLP_ENABLED", "true")
        .env("O11Y_METRICS_OTLP_INTERVAL", "1s")
        .run(|| {
            let guard = o11y::init().expect("init");
            tracing::info_span!("seal").in_scope(|| {
                SEALED.inc();
                tracing::warn!(parcel = 12_i64, "sealed over TLS");
            });
            drop(guard);
        });
    rotel.wait_for_spans(Duration::from_secs(10), |spans| {
        spans.iter().any(|span| span["name"] == "seal")
    });
    rotel.wait_for_logs(Duration::from_secs(10), |logs| {
        logs.iter().any(|log| log["body"] == "sealed over TLS")
    });
    rotel.wait_for_metrics(Duration::from_secs(10), |metrics| {
        metrics
            .iter()
            .any(|m| m["name"] == "otlp_tls_test_sealed_total" && m["value"] == 1)
    });
    let proxy = destination.proxy.as_ref().unwrap();
    let log = proxy.log();
    let alpn = if protocol == "grpc" {
        "ALPN h2"
    } else {
        "ALPN None"
    };
    assert!(log.contains(alpn), "{alpn} expected:\n{log}");
    assert!(
        log.contains("client certificate commonName=client.o11y.test"),
        "the client presented its certificate:\n{log}"
    );
}

#[test]
#[cfg(feature = "tls")]
fn every_signal_reaches_rotel_over_grpc_with_tls() {
    every_signal_reaches_rotel_over_tls("every_signal_reaches_rotel_over_grpc_with_tls", "grpc");
}

#[test]
#[cfg(feature = "tls")]
fn every_signal_reaches_rotel_over_http_with_tls() {
    every_signal_reaches_rotel_over_tls("every_signal_reaches_rotel_over_http_with_tls", "http");
}

/// A CA file that cannot be read fails `init()`, naming the variable and
/// the file (no collector needed: nothing is sent).
#[test]
#[cfg(feature = "tls")]
fn an_unreadable_certificate_file_fails_init() {
    let output = o11y_child("an_unreadable_certificate_file_fails_init")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", "https://127.0.0.1:9")
        .env(
            "OTEL_EXPORTER_OTLP_CERTIFICATE",
            "/nonexistent/o11y-test/ca.pem",
        )
        .run(|| {
            let error = o11y::init().expect_err("init fails").to_string();
            report("error", json!(error));
        });
    let error = reported(&output, "error");
    let error = error.as_str().unwrap();
    assert!(
        error.contains(
            "cannot build the OTLP spans exporter for https://127.0.0.1:9: \
             OTEL_EXPORTER_OTLP_CERTIFICATE: cannot read /nonexistent/o11y-test/ca.pem: "
        ),
        "{error}"
    );
}

/// A collector whose certificate chains to another CA than the one the
/// exporters trust is refused, over gRPC (spans) and HTTP (metrics), and
/// said so on stderr.
#[test]
#[cfg(feature = "tls")]
fn a_collector_certificate_of_another_ca_is_refused() {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    let certificates = || {
        let mut tls = test_certificates(false);
        tls.files
            .push(("other-ca.pem", test_certificates(false).ca_pem));
        tls
    };
    let Some(grpc) = common::TlsProxy::start(rotel.grpc_port(), certificates) else {
        return;
    };
    let Some(http) = common::TlsProxy::start(rotel.http_port(), certificates) else {
        return;
    };
    let metrics_endpoint = format!("{}/v1/metrics", http.endpoint());
    let output = o11y_child("a_collector_certificate_of_another_ca_is_refused")
        .env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", grpc.endpoint())
        .env("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc")
        .env("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", &metrics_endpoint)
        .env("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/protobuf")
        .env("OTEL_EXPORTER_OTLP_CERTIFICATE", grpc.file("other-ca.pem"))
        .env("O11Y_METRICS_OTLP_ENABLED", "true")
        .env("O11Y_METRICS_OTLP_INTERVAL", "1s")
        .run(|| {
            let guard = o11y::init().expect("init");
            tracing::info_span!("refused").in_scope(|| SEALED.inc());
            common::wait_until(
                Duration::from_secs(10),
                || o11y::export::stats().metric_export_errors,
                |errors| *errors >= 1,
                |errors| format!("{errors} failed pushes counted"),
            );
            drop(guard);
        });
    let stderr = &output.stderr;
    let refused = "invalid peer certificate";
    assert!(
        stderr.contains(&format!(
            "o11y: exporting 1 spans failed: gRPC status Unavailable: {refused}"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "o11y: pushing metrics to {metrics_endpoint} failed: client error (Connect): {refused}"
        )),
        "{stderr}"
    );
    assert!(rotel.spans().is_empty(), "{:?}", rotel.spans());
}
