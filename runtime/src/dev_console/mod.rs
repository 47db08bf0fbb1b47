//! The dev console: a few server-rendered pages at `/o11y/` that show what
//! the process (and the processes that export to it) did, without a
//! collector: recent requests, each trace's waterfall with its log lines and
//! queries, the log lines, the N+1 detections and the metrics. Plus an
//! OTLP/HTTP protobuf receiver at `/o11y/v1/traces` and `/o11y/v1/logs`, so
//! that another process run with
//! `OTEL_EXPORTER_OTLP_ENDPOINT=http://<app>/o11y` and
//! `OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf` lands on the same pages.
//!
//! One handler, [`handle`], framework-agnostic (`http::Request<Bytes>` in,
//! `http::Response<Bytes>` out): `o11y::http::routes()` (feature `axum`) and
//! the standalone metrics server (`o11y::metrics::serve`) both call it, and
//! an application on another framework can too.
//!
//! On by default in the `dev` profile only (`dev_console.enabled`; under
//! `prod` it also needs `dev_console.allow_in_prod`), served to loopback
//! clients only unless `dev_console.allow_from` says otherwise (others get
//! 403). Every text that came from the application or a request is
//! HTML-escaped (maud escapes every splice); the pages fetch nothing from
//! elsewhere, and a little inline JavaScript reloads a list when the store
//! changes.
//!
//! What it shows is what the store (`console_store`) keeps: recorded spans
//! (so sampled ones: every one in `dev`), the log lines that pass
//! `logging.level`, bounded by `dev_console.max_traces` and
//! `dev_console.max_bytes`.

mod pages;
mod receiver;
mod settings;

use settings::Settings;

use std::net::IpAddr;

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, Method, Request, Response, StatusCode};

use crate::console_store::{self, Store};
use crate::metrics::server::{Access, decide};

/// Where the console is served: its pages under `/o11y/`, its receiver at
/// `/o11y/v1/traces` and `/o11y/v1/logs`.
pub const PREFIX: &str = "/o11y";

/// Whether `path` is the console's (`/o11y` or under `/o11y/`): the HTTP
/// layer leaves such requests alone while the console is on, so that its
/// own pages and polling do not fill it.
pub fn is_console_path(path: &str) -> bool {
    path.strip_prefix(PREFIX)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Whether the console is on in the configuration in force.
pub fn enabled() -> bool {
    settings::active().enabled
}

/// The largest request body the console reads (`dev_console.max_body_bytes`):
/// servers read at most this much before calling [`handle`], and answer 413
/// past it.
pub fn max_body_bytes() -> usize {
    settings::active().max_body_bytes
}

/// Answers one request to the console: `peer` is the client's address
/// (`None` when the server cannot tell: refused while `dev_console.allow_from`
/// is set). Paths outside [`PREFIX`] get 404; with the console off, every
/// path does.
pub fn handle(request: Request<Bytes>, peer: Option<IpAddr>) -> Response<Bytes> {
    respond(
        &settings::active(),
        console_store::active().as_deref(),
        &request,
        peer,
    )
}

/// [`handle`] with the settings and the store given.
fn respond(
    settings: &Settings,
    store: Option<&Store>,
    request: &Request<Bytes>,
    peer: Option<IpAddr>,
) -> Response<Bytes> {
    let (Some(store), true) = (store, settings.enabled) else {
        return text(
            StatusCode::NOT_FOUND,
            "404 Not Found: the dev console is off (dev_console.enabled)\n",
        );
    };
    if decide(&settings.rules, peer, None) != Access::Allowed {
        return text(
            StatusCode::FORBIDDEN,
            "403 Forbidden: this client is not in dev_console.allow_from\n",
        );
    }
    let path = request.uri().path();
    let Some(rest) = path.strip_prefix(PREFIX) else {
        return not_found();
    };
    let query = request.uri().query().unwrap_or("");
    let method = request.method();
    let reading = *method == Method::GET || *method == Method::HEAD;
    match rest {
        "/v1/traces" | "/v1/logs" if *method == Method::POST => {
            if request.body().len() > settings.max_body_bytes {
                return too_large(settings.max_body_bytes);
            }
            receiver::receive(store, rest, request.headers(), request.body())
        }
        "/v1/traces" | "/v1/logs" => method_not_allowed("POST"),
        _ if !reading => method_not_allowed("GET, HEAD"),
        "" => redirect(&format!("{PREFIX}/")),
        "/" => html(pages::requests::page(store, query)),
        "/logs" => html(pages::logs::page(store, query)),
        "/n-plus-one" => html(pages::n_plus_one::page(store)),
        "/metrics" => html(pages::metrics::page()),
        "/generation" => text(StatusCode::OK, &store.generation().to_string()),
        _ => match rest.strip_prefix("/trace/") {
            Some(id) => match console_store::parse_trace_id(id) {
                Some(id) => match pages::trace::page(store, &id) {
                    Some(page) => html(page),
                    None => text(
                        StatusCode::NOT_FOUND,
                        "404 Not Found: no such trace in the dev console (evicted, or never seen)\n",
                    ),
                },
                None => not_found(),
            },
            None => not_found(),
        },
    }
}

fn text(status: StatusCode, body: &str) -> Response<Bytes> {
    let mut response = Response::new(Bytes::from(body.to_owned()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn html(page: String) -> Response<Bytes> {
    let mut response = Response::new(Bytes::from(page));
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Nothing but the page's own inline script and style, nothing fetched
    // from elsewhere, no framing.
    headers.insert(
        http::header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'unsafe-inline' 'self'; \
             style-src 'unsafe-inline'; frame-ancestors 'none'",
        ),
    );
    response
}

fn not_found() -> Response<Bytes> {
    text(StatusCode::NOT_FOUND, "404 Not Found\n")
}

fn redirect(to: &str) -> Response<Bytes> {
    let mut response = text(StatusCode::FOUND, "");
    if let Ok(location) = HeaderValue::from_str(to) {
        response
            .headers_mut()
            .insert(http::header::LOCATION, location);
    }
    response
}

fn method_not_allowed(allow: &'static str) -> Response<Bytes> {
    let mut response = text(
        StatusCode::METHOD_NOT_ALLOWED,
        &format!("405 Method Not Allowed: use {allow}\n"),
    );
    response
        .headers_mut()
        .insert(http::header::ALLOW, HeaderValue::from_static(allow));
    response
}

/// 413, naming the limit and the key that sets it.
pub fn too_large(limit: usize) -> Response<Bytes> {
    text(
        StatusCode::PAYLOAD_TOO_LARGE,
        &format!(
            "413 Payload Too Large: the dev console reads at most {limit} bytes \
             (dev_console.max_body_bytes)\n"
        ),
    )
}

#[cfg(test)]
mod tests;
