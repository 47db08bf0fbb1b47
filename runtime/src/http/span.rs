//! The request span: one SERVER span per request, decided before it exists
//! (continuing the caller's trace when it sent one), named `METHOD route`,
//! with the OpenTelemetry HTTP semantic-convention attributes when it is
//! recorded (`url.query` with the values of sensitive parameters redacted,
//! and the headers of `http.capture_headers`); the request's log context
//! (`request_id`, `http.method`, `path`, and `user_id` from [`set_user`]);
//! and what its end records.
//!
//! The span exists for every observed request, sampled or not: its ids and
//! log context are what correlate the request's log lines. A span that is
//! not recorded costs its ids and one small extension, and none of the
//! attribute work below, which goes straight into the recording (one
//! registry lookup) instead of through `tracing` fields.

use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use http::{HeaderMap, HeaderValue, Request, StatusCode, Version};
use opentelemetry::trace::SpanKind;
use opentelemetry::{Array, KeyValue, StringValue, Value};

use super::route::RouteSeries;
use super::settings::{CapturedHeader, Settings};
use crate::lifecycle::{Operation, Parent};
use crate::redact::{self, Redactor, Signal};
use crate::subscriber::current::{
    keep_trace_state, with_enclosing_state, with_recording, with_span_state,
};
use crate::trace::w3c::RemoteParent;
use crate::value::FieldValue;

/// Starts the span of `request`, whose route is `series`, as a child of
/// `remote` (the caller's span) when there is one, else of the current
/// span.
/// `request_id` comes with whether o11y generated it (then its text needs
/// no redaction).
pub(crate) fn start<B>(
    request: &Request<B>,
    settings: &Settings,
    series: &'static RouteSeries,
    request_id: (&HeaderValue, bool),
    remote: Option<&RemoteParent>,
) -> Operation {
    let parent = remote.map_or(Parent::Current, Parent::Remote);
    let operation = Operation::start(
        true,
        parent,
        true,
        || tracing::info_span!(target: "o11y::http", "HTTP request"),
    );
    describe(
        operation.span_or_none(),
        request,
        settings,
        series,
        request_id,
        remote,
    );
    operation
}

/// Puts the request's log context on the span, and its attributes when it
/// is recorded.
fn describe<B>(
    span: &tracing::Span,
    request: &Request<B>,
    settings: &Settings,
    series: &'static RouteSeries,
    (request_id, generated): (&HeaderValue, bool),
    remote: Option<&RemoteParent>,
) {
    let redactor = settings.redactor;
    let path = request.uri().path();
    // Sane by construction (1..=128 bytes of [A-Za-z0-9._-]): `to_str`
    // cannot fail.
    let request_id = request_id.to_str().unwrap_or_default();
    with_span_state(span, |state| {
        // So that `set_user` finds it from any span inside the request.
        state.trace.entry = true;
        if let Some(recording) = state.trace.recording.as_mut() {
            recording.set_name(Cow::Borrowed(series.span_name));
            recording.set_kind(SpanKind::Server);
            // The span has no `tracing` fields: these are its first
            // attributes, pushed without looking for earlier ones.
            let attributes = recording.fresh_attributes();
            attributes.reserve(10);
            attributes.push(KeyValue::new("http.request.method", series.method.as_str()));
            if series.method.is_other() {
                attributes.push(KeyValue::new(
                    "http.request.method_original",
                    request.method().as_str().to_owned(),
                ));
            }
            if let Some(route) = series.route {
                attributes.push(KeyValue::new("http.route", route));
            }
            attributes.push(KeyValue::new("url.path", path.to_owned()));
            if let Some(query) = request.uri().query() {
                let query = redactor.query(query, Signal::Traces).into_owned();
                attributes.push(KeyValue::new("url.query", query));
            }
            attributes.push(KeyValue::new("url.scheme", scheme(request)));
            attributes.push(KeyValue::new(
                "network.protocol.version",
                protocol_version(request.version()),
            ));
            if let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>() {
                attributes.push(KeyValue::new("client.address", ip_text(peer.ip())));
            }
            if let Some(agent) = request.headers().get(http::header::USER_AGENT) {
                let agent = String::from_utf8_lossy(agent.as_bytes()).into_owned();
                attributes.push(KeyValue::new("user_agent.original", agent));
            }
            attributes.push(KeyValue::new("request_id", request_id.to_owned()));
            for header in &*settings.capture {
                if let Some(attribute) = captured(request.headers(), header, redactor) {
                    attributes.push(attribute);
                }
            }
        }
        // The span has no `tracing` fields: these are its first log fields,
        // with inline room left for the `user_id` that `set_user` may add.
        // Their text in buffers the span's slot kept from its last span.
        // An id o11y generated and the method name are its own text: no
        // line needs to scan them; the path, and a caller's id, it does.
        let fields = &mut state.fields;
        let value = fields.text(request_id);
        if generated {
            fields.push_clean(Cow::Borrowed("request_id"), value);
        } else {
            fields.push(Cow::Borrowed("request_id"), value);
        }
        fields.push_clean(
            Cow::Borrowed("http.method"),
            FieldValue::Str(Cow::Borrowed(series.method.as_str())),
        );
        let value = fields.text(path);
        fields.push(Cow::Borrowed("path"), value);
    });
    // Kept on the span, recorded or not, for the outbound calls made inside;
    // an empty state too, or an enclosing span's state, of another trace,
    // would be handed on with this trace's `traceparent`.
    if let Some(remote) = remote {
        keep_trace_state(span, remote.trace_state.clone());
    }
}

/// The attribute of a captured header the request carries: every value,
/// as the semantic conventions' string array; the replacement instead when
/// its name is sensitive (the text of the others is scrubbed on the export
/// thread, as every attribute's).
fn captured(headers: &HeaderMap, header: &CapturedHeader, redactor: &Redactor) -> Option<KeyValue> {
    let mut values = headers.get_all(&header.name).iter().peekable();
    values.peek()?;
    let texts: Vec<StringValue> = if header.sensitive && redactor.is_enabled() {
        vec![redactor.key_redacted(Signal::Traces).to_owned().into()]
    } else {
        values
            .map(|value| {
                String::from_utf8_lossy(value.as_bytes())
                    .into_owned()
                    .into()
            })
            .collect()
    };
    Some(KeyValue::new(
        header.attribute.clone(),
        Value::Array(Array::String(texts)),
    ))
}

/// `url.scheme`: the request URI's (HTTP/2 requests and absolute-form
/// HTTP/1 targets carry one), else `http`. Behind a TLS-terminating proxy
/// this is the scheme the proxy spoke to the service.
fn scheme<B>(request: &Request<B>) -> Cow<'static, str> {
    match request.uri().scheme_str() {
        None | Some("http") => Cow::Borrowed("http"),
        Some("https") => Cow::Borrowed("https"),
        Some(other) => Cow::Owned(other.to_owned()),
    }
}

/// `client.address`: an IPv4 address written octet by octet, without the
/// `fmt` machinery `Display` goes through (it showed in request profiles).
fn ip_text(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let mut text = String::with_capacity(15);
            let mut digits = itoa::Buffer::new();
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    text.push('.');
                }
                text.push_str(digits.format(octet));
            }
            text
        }
        IpAddr::V6(v6) => v6.to_string(),
    }
}

/// `network.protocol.version` as OpenTelemetry writes it.
fn protocol_version(version: Version) -> &'static str {
    match version {
        Version::HTTP_09 => "0.9",
        Version::HTTP_10 => "1.0",
        Version::HTTP_11 => "1.1",
        Version::HTTP_2 => "2",
        Version::HTTP_3 => "3",
        _ => "_OTHER",
    }
}

/// Records the end of the request on its span, when the span is recorded:
/// the status code sent (if a response was), and `error_type` (status
/// error) for a 5xx, a panic, a cancelled request or a service error.
pub(crate) fn end(
    span: &tracing::Span,
    status: Option<StatusCode>,
    error_type: Option<Cow<'static, str>>,
) {
    with_recording(span, |recording| {
        if let Some(status) = status {
            recording.set_attribute(KeyValue::new(
                "http.response.status_code",
                i64::from(status.as_u16()),
            ));
        }
        if let Some(error_type) = error_type {
            recording.set_error(error_type, None);
        }
    });
}

/// Sets the user of the current request: `user_id` in every later log line
/// of the request (the access log line included) and `user.id` on its span.
/// Call it from authentication code (a middleware inside the layer, an
/// extractor, the handler), anywhere inside the request's span or a span
/// within it, like an `#[observe]` handler's. Returns `false` (and does
/// nothing) outside a request observed by [`layer()`](super::layer()).
///
/// ```
/// async fn get_order(/* claims: Claims, … */) -> &'static str {
///     let user = String::from("u-42"); // e.g. claims.sub
///     o11y_runtime::http::set_user(user);
///     tracing::info!("loading order"); // carries user_id="u-42", request_id, …
///     "order"
/// }
/// ```
pub fn set_user(id: impl Into<FieldValue>) -> bool {
    let id = id.into();
    let redactor = redact::active();
    with_enclosing_state(
        |state| state.trace.entry,
        |state| {
            if let Some(recording) = state.trace.recording.as_mut() {
                recording.set_attribute(KeyValue::new("user.id", id.clone()));
            }
            // An e-mail address as the user id is redacted.
            state
                .fields
                .set_redacted(Cow::Borrowed("user_id"), id, redactor);
        },
    )
    .is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_versions_follow_semantic_conventions() {
        assert_eq!(protocol_version(Version::HTTP_10), "1.0");
        assert_eq!(protocol_version(Version::HTTP_11), "1.1");
        assert_eq!(protocol_version(Version::HTTP_2), "2");
        assert_eq!(protocol_version(Version::HTTP_3), "3");
    }

    #[test]
    fn addresses_read_as_display_writes_them() {
        for ip in [
            "127.0.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "10.20.3.4",
            "::1",
            "2001:db8::8a2e:370:7334",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(ip_text(ip), ip.to_string());
        }
    }

    #[test]
    fn scheme_defaults_to_http() {
        let plain = Request::get("/orders").body(()).unwrap();
        assert_eq!(scheme(&plain), "http");
        let absolute = Request::get("https://example.com/orders").body(()).unwrap();
        assert_eq!(scheme(&absolute), "https");
    }

    #[test]
    fn set_user_outside_a_request_does_nothing() {
        assert!(!set_user("u-1"));
    }

    #[test]
    fn a_caller_without_tracestate_hands_on_no_state_of_an_enclosing_trace() {
        use opentelemetry::trace::{SpanId, TraceId};

        use crate::subscriber::current::current_trace_state;
        use crate::trace::Ids;
        use crate::trace::w3c::TraceState;

        use tracing_subscriber::layer::SubscriberExt;

        use crate::subscriber::layered::SpanStage;
        use crate::trace::{Sampler, SpanLayer};

        // The span stage keeps o11y's state on every span; nothing exported.
        let spans = SpanStage::new(SpanLayer::new(
            Sampler::new(true, 1.0, true),
            None,
            crate::redact::active(),
        ));
        let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(spans));
        tracing::dispatcher::with_default(&dispatch, || {
            // A span of trace 1, which arrived with a state.
            let outer = tracing::info_span!("outer");
            let state = TraceState::parse("t1vendor=abc").unwrap();
            keep_trace_state(&outer, state);
            let _outer = outer.enter();
            let header = || current_trace_state().map(|state| state.header().to_owned());
            assert_eq!(header().as_deref(), Some("t1vendor=abc"));

            // Inside it, a request continuing trace 2, whose caller sent none.
            let remote = RemoteParent {
                ids: Ids {
                    trace_id: TraceId::from(0x2222_u128),
                    span_id: SpanId::from(0x33_u64),
                    sampled: true,
                    random: true,
                },
                trace_state: TraceState::NONE,
            };
            let request = Request::get("/orders/1").body(()).unwrap();
            let series = super::super::route::RouteCache::default().series(
                super::super::method::MethodLabel::of(&http::Method::GET),
                Some("/unit-test/state/{id}"),
            );
            let request_id = HeaderValue::from_static("r-1");
            let settings = super::super::settings::active();
            let started = start(
                &request,
                &settings,
                series,
                (&request_id, false),
                Some(&remote),
            );
            let _request = started.span_or_none().enter();
            assert_eq!(header(), None, "trace 1's state is not trace 2's");
        });
    }
}
