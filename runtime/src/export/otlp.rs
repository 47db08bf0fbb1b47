//! OTLP exporters for spans and log records, over gRPC (tonic) or
//! HTTP/protobuf (async reqwest), built from the configured endpoint.
//! Headers, compression and timeouts still come from the standard
//! `OTEL_EXPORTER_OTLP_*` variables, read by `opentelemetry-otlp` itself.

use opentelemetry_otlp::{LogExporter, SpanExporter, WithExportConfig};

use crate::config::OtlpProtocol;

/// The OTLP/HTTP path of one signal, appended to the base endpoint as the
/// OpenTelemetry specification does for `OTEL_EXPORTER_OTLP_ENDPOINT`.
pub(super) fn http_url(base: &str, signal_path: &str) -> String {
    format!("{}{signal_path}", base.trim_end_matches('/'))
}

pub(crate) fn build_span_exporter(
    endpoint: &str,
    protocol: OtlpProtocol,
) -> Result<SpanExporter, String> {
    let built = match protocol {
        OtlpProtocol::Grpc => SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint)
            .build(),
        OtlpProtocol::Http => SpanExporter::builder()
            .with_http()
            .with_endpoint(http_url(endpoint, "/v1/traces"))
            .build(),
    };
    built.map_err(|e| format!("cannot build the OTLP span exporter for {endpoint}: {e}"))
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

#[cfg(test)]
mod tests {
    use super::http_url;

    #[test]
    fn http_signal_path_is_appended_once() {
        assert_eq!(
            http_url("http://c:4318", "/v1/traces"),
            "http://c:4318/v1/traces"
        );
        assert_eq!(
            http_url("http://c:4318/", "/v1/logs"),
            "http://c:4318/v1/logs"
        );
        assert_eq!(
            http_url("http://c/otlp/", "/v1/traces"),
            "http://c/otlp/v1/traces"
        );
    }
}
