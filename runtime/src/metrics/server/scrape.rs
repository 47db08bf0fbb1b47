//! The answer to a scrape, the same from both servers: the access decision
//! (refusals counted in `o11y_metrics_scrapes_refused_total{reason}`), then
//! every registered metric in the format the `Accept` header asks for.

use std::net::IpAddr;

use http::header::{ACCEPT, AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderValue, Response, StatusCode};

use super::access::{Access, Refusal, active, decide};
use crate::metrics::own::SCRAPES_REFUSED;
use crate::metrics::{Format, render};

/// Answers a scrape of the metrics endpoint (a `GET` on `metrics.endpoint`;
/// the caller routes) with the access rules of the active configuration.
///
/// `peer` is the client's address, `None` when unknown (then a configured
/// `metrics.allow_from` refuses it: fail closed). The response is
/// 200 with the metrics (OpenMetrics when `Accept` lists
/// `application/openmetrics-text`, Prometheus text 0.0.4 otherwise),
/// 403 when the address is not allowed, or 401 with
/// `WWW-Authenticate: Bearer` when the bearer token is missing or wrong.
///
/// For serving metrics from an HTTP server o11y has no integration for:
///
/// ```
/// let headers = http::HeaderMap::new();
/// let response = o11y_runtime::metrics::scrape_response(Some([127, 0, 0, 1].into()), &headers);
/// assert_eq!(response.status(), 200);
/// assert!(response.body().contains("# TYPE o11y_build_info gauge"));
/// ```
pub fn scrape_response(peer: Option<IpAddr>, headers: &HeaderMap) -> Response<String> {
    let config = active();
    let authorization = headers.get(AUTHORIZATION).map(HeaderValue::as_bytes);
    match decide(&config.rules, peer, authorization) {
        Access::Allowed => {
            let format = Format::from_accept(accept(headers).as_deref());
            let mut response = Response::new(render(format));
            let headers = response.headers_mut();
            headers.insert(
                CONTENT_TYPE,
                HeaderValue::from_static(format.content_type()),
            );
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Access::Refused(refusal) => {
            SCRAPES_REFUSED.labels([refusal.reason()]).inc();
            tracing::debug!(
                target: "o11y::metrics",
                peer = ?peer,
                reason = refusal.reason(),
                "refused a metrics scrape"
            );
            refused(refusal)
        }
    }
}

/// Every `Accept` header, joined: several header lines mean one list
/// (RFC 9110 §5.3).
fn accept(headers: &HeaderMap) -> Option<String> {
    let values: Vec<&str> = headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    (!values.is_empty()).then(|| values.join(","))
}

fn refused(refusal: Refusal) -> Response<String> {
    let body = match refusal {
        Refusal::Address => {
            "403 Forbidden: this client may not scrape metrics (metrics.allow_from)\n"
        }
        Refusal::Token => {
            "401 Unauthorized: send Authorization: Bearer <token> to scrape metrics (metrics.bearer_token)\n"
        }
    };
    let mut response = plain(refusal.status(), body);
    if refusal == Refusal::Token {
        response.headers_mut().insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"metrics\""),
        );
    }
    response
}

/// A `text/plain` response.
pub(crate) fn plain(status: StatusCode, body: &str) -> Response<String> {
    let mut response = Response::new(body.to_owned());
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_headers_are_joined() {
        let mut headers = HeaderMap::new();
        assert_eq!(accept(&headers), None);
        headers.append(ACCEPT, HeaderValue::from_static("*/*"));
        headers.append(
            ACCEPT,
            HeaderValue::from_static("application/openmetrics-text;version=1.0.0"),
        );
        let joined = accept(&headers).unwrap();
        assert_eq!(
            Format::from_accept(Some(&joined)),
            Format::OpenMetrics,
            "{joined}"
        );
    }

    #[test]
    fn a_token_refusal_asks_for_a_bearer_token() {
        let response = refused(Refusal::Token);
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(
            response.headers()[WWW_AUTHENTICATE]
                .to_str()
                .unwrap()
                .starts_with("Bearer")
        );
        let response = refused(Refusal::Address);
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert!(!response.headers().contains_key(WWW_AUTHENTICATE));
    }
}
