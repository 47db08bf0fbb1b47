//! OTLP exporters, over gRPC (tonic) or HTTP/protobuf (async reqwest),
//! built from the configured endpoint:
//! - spans: o11y's own, writing recordings straight into protobuf
//!   ([`wire`](super::wire)) and sending them through the shared
//!   [`transport`](super::transport), with the `OTEL_EXPORTER_OTLP_HEADERS`
//!   and `OTEL_EXPORTER_OTLP_TRACES_HEADERS` headers;
//! - log records: `opentelemetry-otlp`'s, which reads its headers,
//!   compression and timeouts from the standard `OTEL_EXPORTER_OTLP_*`
//!   variables itself.

use opentelemetry_otlp::{LogExporter, WithExportConfig};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceResponse,
};
use opentelemetry_sdk::Resource;

use super::transport::{self, Transport, http_url};
use super::wire::TraceRequestEncoder;
use crate::config::OtlpProtocol;
use crate::trace::Recording;

/// Exports finished spans to one OTLP endpoint.
pub(crate) struct OtlpSpanExporter {
    transport: Transport,
    encoder: TraceRequestEncoder,
}

impl OtlpSpanExporter {
    /// An exporter to `endpoint` for spans of `resource`; must be built on
    /// the export thread (see [`Transport::new`]).
    pub(crate) fn new(
        endpoint: &str,
        protocol: OtlpProtocol,
        resource: &Resource,
    ) -> Result<Self, String> {
        Ok(OtlpSpanExporter {
            transport: Transport::new(endpoint, protocol, transport::TRACES)?,
            encoder: TraceRequestEncoder::new(resource),
        })
    }

    /// Sends `spans` as one request; an error says why they were not taken
    /// (in whole or in part).
    pub(crate) async fn export<'a>(
        &mut self,
        spans: impl IntoIterator<Item = &'a Recording>,
    ) -> Result<(), String> {
        let request = self.encoder.encode(spans);
        let response: ExportTraceServiceResponse = self.transport.send(request).await?;
        match response.partial_success {
            Some(ExportTracePartialSuccess {
                rejected_spans,
                error_message,
            }) if rejected_spans > 0 => Err(format!(
                "the collector rejected {rejected_spans} spans: {error_message}"
            )),
            _ => Ok(()),
        }
    }
}

pub(crate) fn build_log_exporter(
    endpoint: &str,
    protocol: OtlpProtocol,
) -> Result<LogExporter, String> {
    let built = match protocol {
        OtlpProtocol::Grpc => LogExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint)
            .build(),
        OtlpProtocol::Http => LogExporter::builder()
            .with_http()
            .with_endpoint(http_url(endpoint, "/v1/logs"))
            .build(),
    };
    built.map_err(|e| format!("cannot build the OTLP log exporter for {endpoint}: {e}"))
}
