//! Outbound HTTP (feature `reqwest`): [`ClientMiddleware`], a
//! [`reqwest_middleware`] middleware giving every call a CLIENT span, the
//! W3C `traceparent`/`tracestate` headers that continue the trace in the
//! called service, and the `http_client_request_duration_seconds`
//! histogram; [`client()`] wraps a `reqwest::Client` in it.
//!
//! Slightly over 500 lines: the middleware, its span's attributes and the
//! propagated headers (traceparent, tracestate, baggage, request id) are
//! one call's path, read top to bottom.
//!
//! The span and the propagated ids are decided before the call like the
//! server layer's: a call that is not sampled gets a span that records
//! nothing and still sends its ids (sampled flag `00`), so the called
//! service continues the trace without recording it.

use std::borrow::Cow;
use std::fmt;

use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::{Extensions, StatusCode, Version};
use opentelemetry::KeyValue;
use opentelemetry::trace::SpanKind;
use reqwest::{Request, Response, Url};
use reqwest_middleware::{ClientWithMiddleware, Middleware, Next};
use tracing::Instrument;

use super::method::MethodLabel;
use super::redact;
use crate::config::Derived;
use crate::lifecycle::{self, Operation, Parent};
use crate::metrics::register_own_metric;
use crate::metrics::{HistogramVec, MetricDesc};
use crate::observe::{self, METRICS};
use crate::subscriber::current::{
    current_ids, current_trace_state, with_enclosing_state, with_recording,
};
use crate::trace::Ids;
use crate::trace::w3c::{self, TraceState};
use crate::value::FieldValue;

static CLIENT_DURATION: HistogramVec<3> = HistogramVec::new(
    MetricDesc::histogram(
        "http_client_request_duration_seconds",
        "Duration of HTTP client requests",
    )
    .unit("seconds")
    .labels(&[
        "http_request_method",
        "server_address",
        "http_response_status_code",
    ])
    // The lifecycle links a sampled call's own span (`*_with_span`); a plain
    // call is one it did not sample, which must not borrow an enclosing span.
    .exemplars(false),
);
register_own_metric!(CLIENT_DURATION);

const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");

/// A `reqwest::Client` whose every call goes through [`ClientMiddleware`]:
/// the usual way to get an observed client. Use
/// [`reqwest_middleware::ClientBuilder`] with [`ClientMiddleware`] instead
/// to add other middlewares (retries, caching) to the same client.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let _o11y = o11y_runtime::init()?;
/// // Build it once and share it: a reqwest client pools its connections.
/// let payments = o11y_runtime::http::client(reqwest::Client::new());
/// let response = payments
///     .get("http://payments.internal:8080/payments/42")
///     .send()
///     .await?; // a CLIENT span, traceparent sent, duration recorded
/// println!("{}", response.status());
/// # Ok(())
/// # }
/// ```
pub fn client(client: reqwest::Client) -> ClientWithMiddleware {
    reqwest_middleware::ClientBuilder::new(client)
        .with(ClientMiddleware::new())
        .build()
}

/// The outbound middleware, for a [`reqwest_middleware::ClientBuilder`]
/// (feature `reqwest`); [`client()`] is the shortcut when it is the only
/// middleware.
///
/// ```no_run
/// use o11y_runtime::http::ClientMiddleware;
///
/// let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
///     // Another middleware here (e.g. retries) runs outside the span:
///     // each retry is a call of its own, with its own span.
///     .with(ClientMiddleware::new())
///     .build();
/// # let _ = client;
/// ```
///
/// # What a call gets
///
/// - A span of kind CLIENT, child of the current span (the request being
///   served, an `#[observe]` function), named after the method (`GET`; `HTTP`
///   for a non-standard method, as OpenTelemetry names it), with
///   `http.request.method`, `server.address`, `server.port`, `url.full`
///   (without credentials and with secret query values redacted: see
///   below), and once answered `http.response.status_code` and
///   `network.protocol.version`. A 4xx or 5xx answer marks the span as an
///   error (`error.type` is the status code), as does a call that got no
///   answer: `error.type` is then `timeout`, `dns`, `connect`, `redirect`,
///   `body`, `decode`, `builder`, `request`, `middleware` (an error from a
///   middleware inside this one), `_OTHER` (an error reqwest does not
///   classify), `cancelled` (the call's future was dropped, e.g. by a
///   timeout around it) or `panic` (it was dropped while a panic unwound),
///   and the status message says why.
/// - The W3C `traceparent` header naming that span (sampled flag `01` when
///   it is recorded, `00` when it is not: a sampled-out call still carries
///   the trace, for the called service to continue it; with the Level 2
///   `random` flag `02` of the trace, set when o11y started it and as the
///   caller said otherwise), replacing one the request had; and
///   `tracestate`, when the trace arrived with one (the `tracestate` of a
///   request observed by [`layer()`](super::layer()), feature `axum`, each
///   key once). Outside any span, the call starts a trace of its own.
/// - `http_client_request_duration_seconds{http_request_method,
///   server_address,http_response_status_code}`: the time until the
///   response's head arrived (reading the body is not included), with an
///   exemplar linking a recorded call to its trace. `http_request_method` is
///   one of the nine standard methods or [`_OTHER`](super::OTHER_METHOD);
///   `http_response_status_code` is empty when no response came.
///
/// `url.full` leaves out what should not reach a trace store: user and
/// password in the URL become `REDACTED:REDACTED`, and the value of a query
/// parameter becomes `REDACTED` when its name (lowercase, without `-`, `_`,
/// `.`) is `sig`, `key`, `code`, `pwd`, `pass`, `jwt` or `sid`, or contains
/// `password`, `passwd`, `secret`, `token`, `apikey`, `auth`, `credential`,
/// `signature`, `accesskey`, `privatekey`, `session`, `sessid`, `cookie` or
/// `bearer` (this covers OpenTelemetry's list: `AWSAccessKeyId`,
/// `Signature`, `sig`, `X-Goog-Signature`). The fragment is dropped. A
/// secret in the path cannot be recognised: send secrets in headers.
///
/// Until `init()` has run, and after its guard is dropped, calls go
/// straight through: no span, no header, no metric. With o11y in a
/// subscriber of your own ([`layer()`](crate::layer())) it works the same as
/// with `init()`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientMiddleware {
    _private: (),
}

impl ClientMiddleware {
    /// The middleware; it has no options.
    pub fn new() -> Self {
        ClientMiddleware { _private: () }
    }
}

/// Sends `request` on through the rest of the chain, within a CLIENT span.
#[async_trait::async_trait]
impl Middleware for ClientMiddleware {
    async fn handle(
        &self,
        mut request: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        let flags = observe::flags();
        if flags == 0 {
            return next.run(request, extensions).await;
        }
        forward_request_id(&mut request);
        let mut call = OutboundCall::start(&mut request, flags & METRICS != 0);
        let result = next
            .run(request, extensions)
            .instrument(call.operation.span_or_none().clone())
            .await;
        call.record(match &result {
            Ok(response) => Outcome::Answered(response.status(), response.version()),
            Err(error) => Outcome::Failed(error),
        });
        result
    }
}

/// `http.client.forward_request_id`, from the configuration in force.
static FORWARD_REQUEST_ID: Derived<bool> =
    Derived::new(|config| config.is_none_or(|config| config.http.client.forward_request_id));

/// Puts the `X-Request-ID` of the request being served (the enclosing
/// request span's) on an outbound call that carries none, so that both
/// services' log lines share it (`http.client.forward_request_id`).
fn forward_request_id(request: &mut Request) {
    let name = http::HeaderName::from_static(super::REQUEST_ID_HEADER);
    if request.headers().contains_key(&name) || !*FORWARD_REQUEST_ID.get() {
        return;
    }
    let id = with_enclosing_state(
        |state| state.trace.entry,
        |state| {
            state
                .fields
                .as_slice()
                .iter()
                .find_map(|entry| match &entry.value {
                    FieldValue::Str(id) if entry.key == "request_id" => Some(id.to_string()),
                    _ => None,
                })
        },
    )
    .flatten();
    // Accepted (or assigned) by the server within its bounds: a valid
    // header value.
    if let Some(value) = id.and_then(|id| HeaderValue::from_str(&id).ok()) {
        request.headers_mut().insert(name, value);
    }
}

/// One observed call in flight; records how it ended exactly once, as
/// cancelled when dropped unfinished.
struct OutboundCall {
    /// The client span, its clock and exemplar.
    operation: Operation,
    method: MethodLabel,
    server_address: Box<str>,
    /// Metrics were on when the call started.
    metrics: bool,
    finished: bool,
}

/// How a call ended.
enum Outcome<'a> {
    Answered(StatusCode, Version),
    Failed(&'a reqwest_middleware::Error),
    /// The future was dropped before an answer (or a panic unwound it).
    Dropped {
        panicking: bool,
    },
}

impl OutboundCall {
    /// Decides and opens the span, and writes the propagation headers.
    fn start(request: &mut Request, metrics: bool) -> OutboundCall {
        let method = MethodLabel::of(request.method());
        let url = request.url();
        let server_address = server_address(url);
        let (operation, decision) = Operation::start_deciding(
            true,
            Parent::Current,
            true,
            || tracing::info_span!(target: "o11y::http", "HTTP client request"),
        );
        // The caller's context: the span is created, not entered.
        let trace_state = decision.and_then(|_| current_trace_state());
        let span = operation.span_or_none();
        let sent = match decision {
            Some(decision) if !span.is_disabled() => Some(decision.ids()),
            // The span was filtered out (a `logging.level` without
            // `o11y::http`): the caller's span is the parent downstream.
            Some(_) => current_ids(),
            None => None,
        };
        if operation.recorded().is_some() {
            describe(span, method, request, &server_address, trace_state.as_ref());
        }
        if let Some(ids) = sent {
            inject(request.headers_mut(), ids, trace_state.as_ref());
        }
        OutboundCall {
            operation,
            method,
            server_address,
            metrics,
            finished: false,
        }
    }

    fn record(&mut self, outcome: Outcome<'_>) {
        self.finished = true;
        let stopped = self.operation.stop();
        let status = match outcome {
            Outcome::Answered(status, _) => Some(status),
            Outcome::Failed(error) => error.status(),
            Outcome::Dropped { .. } => None,
        };
        let exemplar = self.operation.exemplar();
        if self.operation.recorded().is_some() {
            end_span(self.operation.span_or_none(), &outcome);
        }
        if self.metrics {
            let status_label = status.as_ref().map_or("", StatusCode::as_str);
            let handle =
                CLIENT_DURATION.labels([self.method.as_str(), &self.server_address, status_label]);
            lifecycle::observe(&handle, stopped.elapsed, exemplar);
        }
        self.operation.close(stopped);
    }
}

impl Drop for OutboundCall {
    fn drop(&mut self) {
        if !self.finished {
            self.record(Outcome::Dropped {
                panicking: std::thread::panicking(),
            });
        }
    }
}

impl fmt::Debug for OutboundCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutboundCall")
            .field("method", &self.method.as_str())
            .field("server_address", &self.server_address)
            .finish_non_exhaustive()
    }
}

/// `server.address`: the URL's host, an IPv6 address without brackets.
fn server_address(url: &Url) -> Box<str> {
    match url.host() {
        Some(url::Host::Ipv6(address)) => address.to_string().into(),
        Some(_) => url.host_str().unwrap_or_default().into(),
        None => "".into(),
    }
}

/// `traceparent` (version 00) naming the span `ids` describe, with its
/// trace flags, and `tracestate` when the trace has one.
fn inject(headers: &mut HeaderMap, ids: Ids, trace_state: Option<&TraceState>) {
    let traceparent = w3c::format_traceparent(ids);
    if let Ok(value) = HeaderValue::from_str(&traceparent) {
        headers.insert(TRACEPARENT, value);
    }
    // Validated printable ASCII: a header value whatever it holds.
    match trace_state.and_then(|state| HeaderValue::from_str(state.header()).ok()) {
        Some(value) => {
            headers.insert(TRACESTATE, value);
        }
        // A tracestate set by hand belongs to another trace than ours.
        None => {
            headers.remove(TRACESTATE);
        }
    }
}

/// The recorded span's name, kind and request attributes.
fn describe(
    span: &tracing::Span,
    method: MethodLabel,
    request: &Request,
    server_address: &str,
    trace_state: Option<&TraceState>,
) {
    let url = request.url();
    with_recording(span, |recording| {
        let name = if method.is_other() {
            "HTTP"
        } else {
            method.as_str()
        };
        recording.set_name(Cow::Borrowed(name));
        recording.set_kind(SpanKind::Client);
        recording.reserve_attributes(8);
        recording.set_attribute(KeyValue::new("http.request.method", method.as_str()));
        if method.is_other() {
            recording.set_attribute(KeyValue::new(
                "http.request.method_original",
                request.method().as_str().to_owned(),
            ));
        }
        recording.set_attribute(KeyValue::new("server.address", server_address.to_owned()));
        if let Some(port) = url.port_or_known_default() {
            recording.set_attribute(KeyValue::new("server.port", i64::from(port)));
        }
        recording.set_attribute(KeyValue::new(
            "url.full",
            redact::full_url(url).into_owned(),
        ));
        if let Some(trace_state) = trace_state {
            recording.set_trace_state(trace_state.clone());
        }
    });
}

/// The recorded span's outcome: status code, protocol, error.
fn end_span(span: &tracing::Span, outcome: &Outcome<'_>) {
    with_recording(span, |recording| {
        match outcome {
            Outcome::Answered(status, version) => {
                recording.set_attribute(KeyValue::new(
                    "http.response.status_code",
                    i64::from(status.as_u16()),
                ));
                if let Some(version) = protocol_version(*version) {
                    recording.set_attribute(KeyValue::new("network.protocol.version", version));
                }
                // OpenTelemetry: a client span is an error from 400 on.
                if status.as_u16() >= 400 {
                    recording.set_error(Cow::Owned(status.as_str().to_owned()), None);
                }
            }
            Outcome::Failed(error) => {
                recording.set_error(Cow::Borrowed(error_type(error)), Some(message(error)));
            }
            Outcome::Dropped { panicking: true } => {
                recording.set_error(Cow::Borrowed("panic"), None);
            }
            Outcome::Dropped { panicking: false } => recording.set_error(
                Cow::Borrowed("cancelled"),
                Some("the call was dropped before a response arrived".to_owned()),
            ),
        }
    });
}

/// `network.protocol.version` as OpenTelemetry writes it.
fn protocol_version(version: Version) -> Option<&'static str> {
    match version {
        Version::HTTP_09 => Some("0.9"),
        Version::HTTP_10 => Some("1.0"),
        Version::HTTP_11 => Some("1.1"),
        Version::HTTP_2 => Some("2"),
        Version::HTTP_3 => Some("3"),
        _ => None,
    }
}

/// `error.type` of a call that got no response: what failed, in a few
/// stable words.
fn error_type(error: &reqwest_middleware::Error) -> &'static str {
    let error = match error {
        reqwest_middleware::Error::Middleware(_) => return "middleware",
        reqwest_middleware::Error::Reqwest(error) => error,
    };
    if error.is_timeout() {
        "timeout"
    } else if error.is_dns() {
        "dns"
    } else if error.is_connect() {
        "connect"
    } else if error.is_redirect() {
        "redirect"
    } else if error.is_body() {
        "body"
    } else if error.is_decode() {
        "decode"
    } else if error.is_builder() {
        "builder"
    } else if error.is_request() {
        "request"
    } else {
        "_OTHER"
    }
}

/// The span's status message for a failed call: the error and its causes,
/// with the URL it names redacted like `url.full`.
fn message(error: &reqwest_middleware::Error) -> String {
    let mut text = error.to_string();
    if let Some(url) = error.url()
        && let Cow::Owned(redacted) = redact::full_url(url)
    {
        text = text.replace(url.as_str(), &redacted);
    }
    // reqwest-middleware's errors are transparent: these are reqwest's causes.
    crate::error_text::with_causes(text, error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_and_tracestate_are_written() {
        use opentelemetry::trace::{SpanId, TraceId};

        let mut headers = HeaderMap::new();
        headers.insert(TRACESTATE, HeaderValue::from_static("stale=1"));
        let ids = |sampled, random| Ids {
            trace_id: TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
            span_id: SpanId::from_hex("00f067aa0ba902b7").unwrap(),
            sampled,
            random,
        };
        inject(&mut headers, ids(false, false), None);
        assert_eq!(
            headers[TRACEPARENT],
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"
        );
        assert!(headers.get(TRACESTATE).is_none(), "not this trace's state");

        // Keys the SDK's TraceState would refuse go out as received.
        let text = format!("rojo=00f067aa0ba902b7,foo@@bar=1,t@{}=2", "v".repeat(30));
        let state = TraceState::parse(&text).unwrap();
        for (sampled, random, flags) in
            [(true, false, "01"), (false, true, "02"), (true, true, "03")]
        {
            inject(&mut headers, ids(sampled, random), Some(&state));
            assert_eq!(
                headers[TRACEPARENT],
                format!("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-{flags}").as_str()
            );
            assert_eq!(headers[TRACESTATE], text.as_str());
            assert_eq!(headers.get_all(TRACEPARENT).iter().count(), 1);
        }
    }

    #[test]
    fn server_addresses_are_hosts() {
        let address = |url: &str| server_address(&Url::parse(url).unwrap());
        assert_eq!(&*address("http://127.0.0.1:8080/x"), "127.0.0.1");
        assert_eq!(&*address("https://api.example.com/x"), "api.example.com");
        assert_eq!(&*address("http://[::1]:3000/"), "::1");
    }

    #[tokio::test]
    async fn a_refused_connection_is_a_connect_error_without_secrets() {
        // A port that was free a moment ago: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://ada:pw@127.0.0.1:{port}/x?token=t0p&page=2");
        let error = reqwest::Client::new()
            .get(&url)
            .send()
            .await
            .expect_err("nothing listens");
        let error = reqwest_middleware::Error::from(error);
        assert_eq!(error_type(&error), "connect");
        let message = message(&error);
        assert!(!message.contains("t0p"), "{message}");
        assert!(!message.contains("ada:pw"), "{message}");
        assert!(message.contains("REDACTED"), "{message}");
        assert!(message.to_lowercase().contains("connect"), "{message}");
    }

    #[test]
    fn protocol_versions() {
        assert_eq!(protocol_version(Version::HTTP_11), Some("1.1"));
        assert_eq!(protocol_version(Version::HTTP_2), Some("2"));
    }
}
