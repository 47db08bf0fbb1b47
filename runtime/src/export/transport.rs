//! The OTLP transport o11y's own exporters (spans, metrics) share: one
//! already-encoded protobuf request to one signal's endpoint
//! ([`OtlpTarget`]), over gRPC (tonic, with a codec that passes the bytes
//! through) or HTTP/protobuf (`POST` to the target's URL: async reqwest to
//! an `http://` endpoint, hyper with rustls to an `https://` one), with the
//! headers of the standard `OTEL_EXPORTER_OTLP_HEADERS` variables, within
//! the timeout of the standard `OTEL_EXPORTER_OTLP_TIMEOUT` variables, and
//! the collector's answer decoded.
//!
//! Requests go out uncompressed. To an `https://` endpoint they go over TLS
//! (feature `tls`, [`super::tls`]: rustls with the ring provider unless the
//! application installed a process-wide one; without the feature such an
//! endpoint is refused): the collector's certificate must chain to the CA
//! certificates of the standard `OTEL_EXPORTER_OTLP_CERTIFICATE` variables
//! when set, else to the system's root certificates, else (a system without
//! any) to Mozilla's; the `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE` and
//! `OTEL_EXPORTER_OTLP_CLIENT_KEY` variables give the client certificate of
//! mutual TLS. The log exporter (`opentelemetry-otlp`'s) gets the same
//! settings ([`otlp`](super::otlp)). HTTP proxies (`HTTPS_PROXY`) are not
//! used for `https://` endpoints.

use std::marker::PhantomData;
use std::time::Duration;

#[cfg(feature = "tls")]
use bytes::Bytes;
use http::uri::PathAndQuery;
#[cfg(feature = "tls")]
use http_body_util::{BodyExt, Full};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceResponse;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use prost::Message;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use tonic::Extensions;
use tonic::codec::{BufferSettings, Codec, EncodeBuf, Encoder};
use tonic::metadata::MetadataMap;
use tonic::transport::{Channel, Endpoint};
use tonic_prost::ProstDecoder;

use super::EXPORT_TIMEOUT;
#[cfg(feature = "tls")]
use super::tls::HttpsClient;
use crate::config::{OtlpProtocol, OtlpTarget};
use crate::error_text::error_chain;

/// One OTLP signal: where its requests go on either protocol.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Signal {
    /// For messages: `spans`, `metrics`.
    pub(crate) name: &'static str,
    /// What a request carries, counted in partial rejections.
    pub(crate) items: &'static str,
    /// The gRPC method, `/opentelemetry.proto.collector.<signal>.v1.<Service>/Export`.
    pub(crate) grpc_path: &'static str,
    /// The signal's own headers variable, read after (and winning over)
    /// `OTEL_EXPORTER_OTLP_HEADERS`.
    pub(crate) headers_var: &'static str,
    /// The signal's own compression variable (not supported: said so).
    pub(crate) compression_var: &'static str,
    /// The signal's own timeout variable, read before (and winning over)
    /// `OTEL_EXPORTER_OTLP_TIMEOUT`.
    pub(crate) timeout_var: &'static str,
    /// The signal's own CA certificate file variable, read before (and
    /// winning over) `OTEL_EXPORTER_OTLP_CERTIFICATE` (feature `tls`).
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    pub(crate) certificate_var: &'static str,
    /// The signal's own client certificate and key variables (mutual TLS),
    /// read before (and winning over) `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE`
    /// and `OTEL_EXPORTER_OTLP_CLIENT_KEY` (feature `tls`).
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    pub(crate) client_certificate_var: &'static str,
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    pub(crate) client_key_var: &'static str,
}

pub(crate) const TRACES: Signal = Signal {
    name: "spans",
    items: "spans",
    grpc_path: "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
    headers_var: "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
    compression_var: "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
    timeout_var: "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
    certificate_var: "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
    client_certificate_var: "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
    client_key_var: "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY",
};

pub(crate) const METRICS: Signal = Signal {
    name: "metrics",
    items: "data points",
    grpc_path: "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
    headers_var: "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
    compression_var: "OTEL_EXPORTER_OTLP_METRICS_COMPRESSION",
    timeout_var: "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT",
    certificate_var: "OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE",
    client_certificate_var: "OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE",
    client_key_var: "OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY",
};

/// Log records go through `opentelemetry-otlp`'s exporter, which reads its
/// own headers, compression and timeout variables; o11y reads the TLS ones
/// ([`tls`]) and, over HTTPS, the timeout.
pub(crate) const LOGS: Signal = Signal {
    name: "logs",
    items: "log records",
    grpc_path: "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
    headers_var: "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
    compression_var: "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION",
    timeout_var: "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT",
    certificate_var: "OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE",
    client_certificate_var: "OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE",
    client_key_var: "OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY",
};

enum Client {
    Grpc(tonic::client::Grpc<Channel>),
    /// HTTP/protobuf to an `http://` endpoint.
    Http {
        client: reqwest::Client,
        url: String,
    },
    /// HTTP/protobuf to an `https://` endpoint (boxed: hyper's client is
    /// several times the size of the others).
    #[cfg(feature = "tls")]
    Https {
        client: Box<HttpsClient>,
        url: http::Uri,
    },
}

/// Sends one signal's requests to one OTLP endpoint.
pub(crate) struct Transport {
    client: Client,
    /// What the signal's requests carry, for errors: `spans`, `data points`.
    items: &'static str,
    /// Sent with every gRPC request (the HTTP client has them as defaults).
    headers: HeaderMap,
    grpc_path: PathAndQuery,
    /// The longest one request may take, connecting included.
    timeout: Duration,
}

impl Transport {
    /// A transport to `endpoint`; must be built inside the export thread's
    /// runtime, where the gRPC channel's background task lives. Connects
    /// lazily: a collector that is down fails exports, not this.
    pub(crate) fn new(target: &OtlpTarget, signal: Signal) -> Result<Self, String> {
        let endpoint = &target.url;
        let cannot = |e: &dyn std::fmt::Display| {
            format!(
                "cannot build the OTLP {} exporter for {}: {e}",
                signal.name,
                crate::config::without_credentials(endpoint)
            )
        };
        let headers = headers(signal);
        warn_if_compression_asked(signal);
        let timeout = timeout(signal, env_var);
        let tls = tls_for(endpoint, signal).map_err(|e| cannot(&e))?;
        let client = match (target.protocol, tls) {
            (OtlpProtocol::Grpc, None) => {
                let channel = Endpoint::from_shared(endpoint.to_owned()).map_err(|e| cannot(&e))?;
                Client::Grpc(tonic::client::Grpc::new(channel.connect_lazy()))
            }
            #[cfg(feature = "tls")]
            (OtlpProtocol::Grpc, Some(tls)) => {
                let channel = Endpoint::from_shared(endpoint.to_owned())
                    .map_err(|e| cannot(&e))?
                    .tls_config(tls.grpc())
                    .map_err(|e| cannot(&error_chain(&e)))?;
                Client::Grpc(tonic::client::Grpc::new(channel.connect_lazy()))
            }
            (OtlpProtocol::Http, None) => Client::Http {
                client: reqwest::Client::builder()
                    .default_headers(headers.clone())
                    .build()
                    .map_err(|e| cannot(&e))?,
                url: endpoint.clone(),
            },
            #[cfg(feature = "tls")]
            (OtlpProtocol::Http, Some(tls)) => Client::Https {
                client: Box::new(tls.https_client()),
                url: endpoint.parse().map_err(|e| cannot(&e))?,
            },
        };
        Ok(Transport {
            client,
            items: signal.items,
            headers,
            grpc_path: PathAndQuery::from_static(signal.grpc_path),
            timeout,
        })
    }

    /// The same transport with another timeout.
    #[cfg(test)]
    pub(crate) fn with_timeout(self, timeout: Duration) -> Self {
        Transport { timeout, ..self }
    }

    /// Sends `request` (an encoded `Export<Signal>ServiceRequest`); an
    /// error says why it was not taken, in whole (transport, status) or in
    /// part (the items the collector's `R`, its
    /// `Export<Signal>ServiceResponse`, says it rejected), or that it took
    /// longer than the timeout.
    pub(crate) async fn send<R: ExportResponse>(&self, request: Vec<u8>) -> Result<(), String> {
        let response: R = tokio::time::timeout(self.timeout, self.exchange(request))
            .await
            .map_err(|_| format!("timed out after {:?}", self.timeout))??;
        match response.rejected() {
            Some((count, message)) if count > 0 => Err(format!(
                "the collector rejected {count} {}: {message}",
                self.items
            )),
            _ => Ok(()),
        }
    }

    async fn exchange<R: ExportResponse>(&self, request: Vec<u8>) -> Result<R, String> {
        match &self.client {
            Client::Grpc(grpc) => {
                // A clone shares the channel: this is how tonic's generated
                // clients are used concurrently.
                let mut grpc = grpc.clone();
                grpc.ready()
                    .await
                    .map_err(|e| format!("gRPC channel not ready: {}", error_chain(&e)))?;
                let request = tonic::Request::from_parts(
                    MetadataMap::from_headers(self.headers.clone()),
                    Extensions::default(),
                    request,
                );
                let codec = EncodedCodec::<R> {
                    len: request.get_ref().len(),
                    response: PhantomData,
                };
                grpc.unary(request, self.grpc_path.clone(), codec)
                    .await
                    .map(tonic::Response::into_inner)
                    .map_err(|status| {
                        format!("gRPC status {:?}: {}", status.code(), status.message())
                    })
            }
            Client::Http { client, url } => {
                let response = client
                    .post(url)
                    .header(reqwest::header::CONTENT_TYPE, "application/x-protobuf")
                    .body(request)
                    .send()
                    .await
                    .map_err(|e| error_chain(&e))?;
                let status = response.status();
                let body = response.bytes().await.map_err(|e| error_chain(&e))?;
                http_answer(status, &body, url)
            }
            #[cfg(feature = "tls")]
            Client::Https { client, url } => {
                let mut request = http::Request::post(url.clone())
                    .body(Full::new(Bytes::from(request)))
                    .map_err(|e| error_chain(&e))?;
                *request.headers_mut() = self.headers.clone();
                request.headers_mut().insert(
                    http::header::CONTENT_TYPE,
                    HeaderValue::from_static("application/x-protobuf"),
                );
                let response = client.request(request).await.map_err(|e| error_chain(&e))?;
                let status = response.status();
                let body = response
                    .into_body()
                    .collect()
                    .await
                    .map_err(|e| error_chain(&e))?
                    .to_bytes();
                http_answer(status, &body, url)
            }
        }
    }
}

/// The collector's answer to an HTTP/protobuf request to `url`: its
/// response message, or the error its status says.
fn http_answer<R: ExportResponse>(
    status: http::StatusCode,
    body: &[u8],
    url: impl std::fmt::Display,
) -> Result<R, String> {
    if !status.is_success() {
        let text = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
        let url = url.to_string();
        let url = crate::config::without_credentials(&url);
        return Err(format!("HTTP {status} from {url}: {text}"));
    }
    // A body that is not a response message (some proxies answer with
    // nothing, or with text) still means the request was taken.
    Ok(R::decode(body).unwrap_or_default())
}

/// An `Export<Signal>ServiceResponse`: what its partial success says was
/// rejected (a count and the collector's message).
pub(crate) trait ExportResponse: Message + Default + Send + Sync + 'static {
    fn rejected(&self) -> Option<(i64, &str)>;
}

impl ExportResponse for ExportTraceServiceResponse {
    fn rejected(&self) -> Option<(i64, &str)> {
        let partial = self.partial_success.as_ref()?;
        Some((partial.rejected_spans, &partial.error_message))
    }
}

impl ExportResponse for ExportMetricsServiceResponse {
    fn rejected(&self) -> Option<(i64, &str)> {
        let partial = self.partial_success.as_ref()?;
        Some((partial.rejected_data_points, &partial.error_message))
    }
}

/// A gRPC codec whose requests are protobuf bytes encoded already, and
/// whose responses are decoded as `R` by prost (as generated clients do).
struct EncodedCodec<R> {
    /// The request's length: tonic's send buffer is allocated at that size
    /// (plus the gRPC frame header) instead of growing from 8 KiB by
    /// doubling, a copy of the request at each step.
    len: usize,
    response: PhantomData<fn() -> R>,
}

impl<R: Message + Default + Send + 'static> Codec for EncodedCodec<R> {
    type Encode = Vec<u8>;
    type Decode = R;
    type Encoder = PassThrough;
    type Decoder = ProstDecoder<R>;

    fn encoder(&mut self) -> PassThrough {
        PassThrough {
            buffer_size: self.len + GRPC_HEADER_LEN,
        }
    }

    fn decoder(&mut self) -> ProstDecoder<R> {
        ProstDecoder::default()
    }
}

/// A gRPC message's header: a compression flag and a 4-byte length.
const GRPC_HEADER_LEN: usize = 5;

/// tonic's default: irrelevant to a unary request, which is one message.
const YIELD_THRESHOLD: usize = 32 * 1024;

struct PassThrough {
    buffer_size: usize,
}

impl Encoder for PassThrough {
    type Item = Vec<u8>;
    type Error = tonic::Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        bytes::BufMut::put_slice(dst, &item);
        Ok(())
    }

    fn buffer_settings(&self) -> BufferSettings {
        BufferSettings::new(self.buffer_size, YIELD_THRESHOLD)
    }
}

/// The headers every request of `signal` carries, from the standard
/// variables; a pair that is not a valid header is left out, and said so
/// on stderr.
fn headers(signal: Signal) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for var in ["OTEL_EXPORTER_OTLP_HEADERS", signal.headers_var] {
        let Ok(text) = std::env::var(var) else {
            continue;
        };
        for (name, value) in parse_headers(&text) {
            match (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&value),
            ) {
                (Ok(name), Ok(value)) => {
                    headers.insert(name, value);
                }
                _ => eprintln!(
                    "o11y: {var}: `{name}` is not a valid header; {} are sent without it",
                    signal.name
                ),
            }
        }
    }
    headers
}

/// The timeout of `signal`'s requests: its own variable's, else
/// `OTEL_EXPORTER_OTLP_TIMEOUT`'s (milliseconds, as the OpenTelemetry
/// specification has it), else [`EXPORT_TIMEOUT`]. A value that is not a
/// positive number of milliseconds is said so on stderr, and the next one
/// applies. `var` reads a variable.
pub(crate) fn timeout(signal: Signal, var: impl Fn(&str) -> Option<String>) -> Duration {
    for name in [signal.timeout_var, "OTEL_EXPORTER_OTLP_TIMEOUT"] {
        // Empty counts as unset, as the specification has it.
        let Some(text) = var(name).filter(|text| !text.trim().is_empty()) else {
            continue;
        };
        match text.trim().parse::<u64>() {
            Ok(millis) if millis > 0 => return Duration::from_millis(millis),
            _ => eprintln!(
                "o11y: {name}={text} is not a positive number of milliseconds; ignored for {}",
                signal.name
            ),
        }
    }
    EXPORT_TIMEOUT
}

/// A variable of the process's environment (unset if not Unicode).
pub(crate) fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The TLS settings of `signal`'s requests to `url`: none for `http://`;
/// for `https://`, those of the standard variables (feature `tls`), which
/// the specification has for secure connections only, or, without the
/// feature, an error naming it.
pub(crate) fn tls_for(url: &str, signal: Signal) -> Result<Option<Tls>, String> {
    if !is_https(url) {
        return Ok(None);
    }
    #[cfg(feature = "tls")]
    return super::tls::settings(signal, env_var).map(Some);
    #[cfg(not(feature = "tls"))]
    {
        let _ = signal;
        Err(crate::config::NO_TLS.to_owned())
    }
}

/// Without the `tls` feature there are no TLS settings: an `https://`
/// endpoint is refused ([`tls_for`]).
#[cfg(not(feature = "tls"))]
pub(crate) enum Tls {}

#[cfg(feature = "tls")]
pub(crate) use super::tls::Tls;

/// Whether `url` goes over TLS.
pub(crate) fn is_https(url: &str) -> bool {
    url.get(..8)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
}

/// Says on stderr that a compression asked for by the standard variables
/// is not applied: the collector then sees uncompressed requests.
fn warn_if_compression_asked(signal: Signal) {
    for var in ["OTEL_EXPORTER_OTLP_COMPRESSION", signal.compression_var] {
        if let Ok(value) = std::env::var(var)
            && !value.trim().is_empty()
            && !value.trim().eq_ignore_ascii_case("none")
        {
            eprintln!(
                "o11y: {var}={value} is not supported; {} are sent uncompressed",
                signal.name
            );
        }
    }
}

/// `k=v` pairs separated by commas, with percent-encoded values; empty
/// names or values are skipped, as `opentelemetry-otlp` does.
fn parse_headers(text: &str) -> impl Iterator<Item = (String, String)> + '_ {
    text.split(',').filter_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        let (name, value) = (name.trim(), value.trim());
        let value = crate::percent::decode(value).unwrap_or_else(|| value.to_owned());
        (!name.is_empty() && !value.is_empty()).then(|| (name.to_owned(), value))
    })
}

/// A variable reader over `pairs`, for tests.
#[cfg(test)]
pub(crate) fn from<'a>(pairs: &'a [(&str, &str)]) -> impl Fn(&str) -> Option<String> + 'a {
    move |name| {
        pairs
            .iter()
            .find(|(var, _)| *var == name)
            .map(|(_, value)| (*value).to_owned())
    }
}

#[cfg(test)]
mod tests;
