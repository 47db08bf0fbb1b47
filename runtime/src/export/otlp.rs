//! OTLP exporters, over gRPC (tonic) or HTTP/protobuf (async reqwest),
//! built from each signal's configured target
//! ([`TracingConfig::otlp_target`](crate::config::TracingConfig::otlp_target)):
//! - spans: o11y's own, writing recordings straight into protobuf
//!   ([`wire`](super::wire)) and sending them through the shared
//!   [`transport`](super::transport), with the `OTEL_EXPORTER_OTLP_HEADERS`
//!   and `OTEL_EXPORTER_OTLP_TRACES_HEADERS` headers;
//! - log records: `opentelemetry-otlp`'s, which reads its headers,
//!   compression and timeouts from the standard `OTEL_EXPORTER_OTLP_*`
//!   variables itself. To an `https://` endpoint it gets o11y's TLS settings
//!   ([`transport::tls`]: the standard certificate variables, else the
//!   system's or Mozilla's roots): tonic's TLS config over gRPC, and over
//!   HTTP/protobuf a hyper client with rustls (`opentelemetry-http`'s
//!   `HyperClient`, within the timeout of the standard `..._LOGS_TIMEOUT`
//!   variables) instead of its own reqwest client, which has no TLS.

use std::future::Future;
use std::sync::Arc;

use opentelemetry_otlp::{LogExporter, WithExportConfig};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use opentelemetry_sdk::Resource;

use super::transport::{self, Transport};
use super::wire::TraceRequestEncoder;
use crate::config::{OtlpProtocol, OtlpTarget};
use crate::trace::Recording;

/// Exports finished spans to one OTLP endpoint: [`encode`](Self::encode)
/// a batch on the export thread, then [`send`](Self::send) it, as a task
/// of its own so that several requests can be on their way at once.
pub(crate) struct OtlpSpanExporter {
    transport: Arc<Transport>,
    encoder: TraceRequestEncoder,
}

impl OtlpSpanExporter {
    /// An exporter to `endpoint` for spans of `resource`; must be built on
    /// the export thread (see [`Transport::new`]).
    pub(crate) fn new(target: &OtlpTarget, resource: &Resource) -> Result<Self, String> {
        Ok(OtlpSpanExporter {
            transport: Arc::new(Transport::new(target, transport::TRACES)?),
            encoder: TraceRequestEncoder::new(resource),
        })
    }

    /// The request carrying `spans`.
    pub(crate) fn encode<'a>(&mut self, spans: impl IntoIterator<Item = &'a Recording>) -> Vec<u8> {
        self.encoder.encode(spans)
    }

    /// Sends an encoded request; an error says why its spans were not
    /// taken (in whole or in part).
    pub(crate) fn send(
        &self,
        request: Vec<u8>,
    ) -> impl Future<Output = Result<(), String>> + Send + 'static {
        let transport = self.transport.clone();
        async move { transport.send::<ExportTraceServiceResponse>(request).await }
    }

    /// Encodes and sends `spans`, and waits for the answer.
    #[cfg(test)]
    async fn export<'a>(
        &mut self,
        spans: impl IntoIterator<Item = &'a Recording>,
    ) -> Result<(), String> {
        let request = self.encode(spans);
        self.send(request).await
    }
}

/// `opentelemetry-otlp`'s log exporter to `target` (used as it is: the
/// signal path is in it already), with o11y's TLS settings to an `https://`
/// endpoint.
pub(crate) fn build_log_exporter(target: &OtlpTarget) -> Result<LogExporter, String> {
    let cannot = |e: &dyn std::fmt::Display| {
        let url = crate::config::without_credentials(&target.url);
        format!("cannot build the OTLP log exporter for {url}: {e}")
    };
    let url = target.url.clone();
    let tls = transport::tls_for(&url, transport::LOGS).map_err(|e| cannot(&e))?;
    let built = match (target.protocol, tls) {
        (OtlpProtocol::Grpc, None) => LogExporter::builder()
            .with_tonic()
            .with_endpoint(url)
            .build(),
        (OtlpProtocol::Http, None) => LogExporter::builder()
            .with_http()
            .with_endpoint(url)
            .build(),
        #[cfg(feature = "tls")]
        (protocol, Some(tls)) => https_log_exporter(protocol, url, &tls),
    };
    built.map_err(|e| cannot(&e))
}

/// The log exporter to an `https://` endpoint, with o11y's TLS settings:
/// tonic's TLS config over gRPC; over HTTP/protobuf a hyper client with
/// rustls, within the timeout of the standard `..._LOGS_TIMEOUT` variables.
#[cfg(feature = "tls")]
fn https_log_exporter(
    protocol: OtlpProtocol,
    url: String,
    tls: &transport::Tls,
) -> Result<LogExporter, opentelemetry_otlp::ExporterBuildError> {
    use opentelemetry_http::hyper::HyperClient;
    use opentelemetry_otlp::{WithHttpConfig, WithTonicConfig};

    match protocol {
        OtlpProtocol::Grpc => LogExporter::builder()
            .with_tonic()
            .with_endpoint(url)
            .with_tls_config(tls.grpc())
            .build(),
        OtlpProtocol::Http => {
            let timeout = transport::timeout(transport::LOGS, transport::env_var);
            LogExporter::builder()
                .with_http()
                .with_endpoint(url)
                .with_http_client(HyperClient::new(tls.https_connector(), timeout, None))
                .build()
        }
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::time::{Duration, UNIX_EPOCH};

    use http_body_util::{BodyExt, Full};
    use hyper::body::{Bytes, Incoming};
    use hyper_util::rt::TokioIo;
    use opentelemetry::trace::{SpanId, TraceId};
    use opentelemetry_proto::tonic::collector::trace::v1::{
        ExportTracePartialSuccess, ExportTraceServiceRequest,
    };
    use prost::Message as _;

    use super::*;

    /// A collector that answers every request with `answer` and hands what
    /// it received to the test.
    async fn collector(
        answer: ExportTraceServiceResponse,
    ) -> (
        String,
        tokio::sync::mpsc::UnboundedReceiver<(String, Vec<u8>)>,
    ) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let (received, requests) = tokio::sync::mpsc::unbounded_channel();
        let body = answer.encode_to_vec();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (received, body) = (received.clone(), body.clone());
                let service =
                    hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
                        let (received, body) = (received.clone(), body.clone());
                        async move {
                            let path = request.uri().path().to_owned();
                            let bytes = request.into_body().collect().await.unwrap().to_bytes();
                            let _ = received.send((path, bytes.to_vec()));
                            Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from(body))))
                        }
                    });
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service),
                );
            }
        });
        (endpoint, requests)
    }

    fn span() -> Recording {
        static CALLSITE: tracing_core::callsite::DefaultCallsite =
            tracing_core::callsite::DefaultCallsite::new(&META);
        static META: tracing_core::Metadata<'static> = tracing_core::metadata! {
            name: "checkout",
            target: "shop",
            level: tracing_core::Level::INFO,
            fields: &[],
            callsite: &CALLSITE,
            kind: tracing_core::metadata::Kind::SPAN,
        };
        let start = UNIX_EPOCH + Duration::from_secs(1_763_800_000);
        Recording::new_for_test(
            TraceId::from(1),
            SpanId::from(2),
            &META,
            start,
            start + Duration::from_millis(3),
        )
    }

    /// The traces target of a collector at `endpoint`, over HTTP.
    fn http_target(endpoint: &str) -> OtlpTarget {
        OtlpTarget {
            url: format!("{endpoint}/v1/traces"),
            protocol: OtlpProtocol::Http,
        }
    }

    #[tokio::test]
    async fn spans_are_posted_as_one_request_to_v1_traces() {
        let (endpoint, mut requests) = collector(ExportTraceServiceResponse::default()).await;
        let resource = Resource::builder_empty().build();
        let mut exporter = OtlpSpanExporter::new(&http_target(&endpoint), &resource).unwrap();
        let spans = [span(), span()];
        exporter.export(spans.iter()).await.expect("taken");
        let (path, body) = requests.recv().await.unwrap();
        assert_eq!(path, "/v1/traces");
        let request = ExportTraceServiceRequest::decode(body.as_slice()).unwrap();
        let names: Vec<_> = request.resource_spans[0].scope_spans[0]
            .spans
            .iter()
            .map(|span| span.name.as_str())
            .collect();
        assert_eq!(names, ["checkout", "checkout"]);
    }

    #[tokio::test]
    async fn spans_the_collector_rejects_are_an_error() {
        let answer = ExportTraceServiceResponse {
            partial_success: Some(ExportTracePartialSuccess {
                rejected_spans: 1,
                error_message: "span too old".into(),
            }),
        };
        let (endpoint, _requests) = collector(answer).await;
        let resource = Resource::builder_empty().build();
        let mut exporter = OtlpSpanExporter::new(&http_target(&endpoint), &resource).unwrap();
        let error = exporter.export([span()].iter()).await.unwrap_err();
        assert_eq!(error, "the collector rejected 1 spans: span too old");
    }
}
