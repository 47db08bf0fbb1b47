//! Incoming W3C context: the caller's span from `traceparent` (with its
//! `tracestate`), read by the rules every carrier shares
//! ([`crate::trace::w3c`]), and its `baggage`, read with OpenTelemetry's
//! baggage propagator. Anything malformed yields nothing: the request then
//! starts a new trace, and is never refused for it.
//!
//! A request without these headers pays one header lookup each.

use std::borrow::Cow;

use http::HeaderMap;
use http::header::GetAll;
use opentelemetry::Context;
use opentelemetry::baggage::BaggageExt;
use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::SpanContext;
use opentelemetry_sdk::propagation::BaggagePropagator;

use crate::trace::w3c;

const TRACEPARENT: &str = "traceparent";
const TRACESTATE: &str = "tracestate";
const BAGGAGE: &str = "baggage";

/// The caller's span, when the request carries one valid `traceparent`
/// (W3C: a repeated `traceparent` is invalid). Several `tracestate` headers
/// are one list, joined in order.
pub(crate) fn remote_parent(headers: &HeaderMap) -> Option<SpanContext> {
    let mut traceparents = headers.get_all(TRACEPARENT).iter();
    let (Some(traceparent), None) = (traceparents.next(), traceparents.next()) else {
        return None;
    };
    let tracestate = joined(headers.get_all(TRACESTATE));
    w3c::remote_span_context(traceparent.to_str().ok()?, tracestate.as_deref())
}

/// The caller's baggage, when the request carries a non-empty, valid one:
/// in an OpenTelemetry [`Context`] (`cx.baggage()`), the type that carries
/// baggage on (`Baggage` itself cannot be cloned into request extensions).
pub(crate) fn baggage(headers: &HeaderMap) -> Option<Context> {
    let carrier = Carrier {
        baggage: joined(headers.get_all(BAGGAGE))?,
    };
    let context = BaggagePropagator::new().extract_with_context(&Context::new(), &carrier);
    (!context.baggage().is_empty()).then_some(context)
}

/// The values of a list header as one comma-separated value: borrowed when
/// it is sent once (the usual case), joined when repeated. Values that are
/// not visible ASCII are skipped.
fn joined(values: GetAll<'_, http::HeaderValue>) -> Option<Cow<'_, str>> {
    let mut texts = values.iter().filter_map(|v| v.to_str().ok());
    let first = texts.next()?;
    match texts.next() {
        None => Some(Cow::Borrowed(first)),
        Some(second) => {
            let mut all = format!("{first},{second}");
            for more in texts {
                all.push(',');
                all.push_str(more);
            }
            Some(Cow::Owned(all))
        }
    }
}

/// The `baggage` header, already looked up, for the baggage propagator.
struct Carrier<'a> {
    baggage: Cow<'a, str>,
}

impl Extractor for Carrier<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        (key == BAGGAGE).then_some(&*self.baggage)
    }

    fn keys(&self) -> Vec<&str> {
        vec![BAGGAGE]
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::{SpanId, TraceId};

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, http::HeaderValue::from_static(value));
        }
        headers
    }

    const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn a_valid_traceparent_is_the_remote_parent() {
        let parent = remote_parent(&headers(&[(TRACEPARENT, PARENT)])).expect("valid");
        assert_eq!(
            parent.trace_id(),
            TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap()
        );
        assert_eq!(
            parent.span_id(),
            SpanId::from_hex("00f067aa0ba902b7").unwrap()
        );
        assert!(parent.is_sampled());
        assert!(parent.is_remote());

        let unsampled = PARENT.replace("-01", "-00");
        let mut map = HeaderMap::new();
        map.insert(TRACEPARENT, unsampled.parse().unwrap());
        assert!(!remote_parent(&map).expect("valid").is_sampled());
    }

    #[test]
    fn later_versions_may_add_fields() {
        let v1 = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future";
        let mut map = HeaderMap::new();
        map.insert(TRACEPARENT, v1.parse().unwrap());
        assert!(remote_parent(&map).is_some());
        map.insert(TRACEPARENT, format!("{}x", &v1[..55]).parse().unwrap());
        assert_eq!(remote_parent(&map), None);
    }

    #[test]
    fn tracestate_is_kept_and_repeated_headers_are_joined() {
        let parent = remote_parent(&headers(&[
            (TRACEPARENT, PARENT),
            (TRACESTATE, "rojo=00f067aa0ba902b7"),
            (TRACESTATE, "congo=t61rcWkgMzE"),
        ]))
        .expect("valid");
        assert_eq!(
            parent.trace_state().header(),
            "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"
        );
    }

    #[test]
    fn malformed_or_repeated_traceparents_give_nothing() {
        // The rules themselves are trace::w3c's (tested there).
        let mut map = HeaderMap::new();
        map.insert(TRACEPARENT, "garbage".parse().unwrap());
        map.insert(TRACESTATE, "a=b".parse().unwrap());
        assert_eq!(remote_parent(&map), None, "a tracestate alone is no parent");
        map.insert(TRACEPARENT, format!("{PARENT}-").parse().unwrap());
        assert_eq!(remote_parent(&map), None, "version 00 has four fields");
        let twice = headers(&[(TRACEPARENT, PARENT), (TRACEPARENT, PARENT)]);
        assert_eq!(remote_parent(&twice), None);
        assert_eq!(remote_parent(&HeaderMap::new()), None);
    }

    #[test]
    fn baggage_is_read_when_present() {
        let context =
            baggage(&headers(&[(BAGGAGE, "tenant=acme,region=eu%20west")])).expect("baggage");
        let baggage = context.baggage();
        assert_eq!(
            baggage.get("tenant").map(|v| v.as_str().to_owned()),
            Some("acme".to_owned())
        );
        assert_eq!(
            baggage.get("region").map(|v| v.as_str().to_owned()),
            Some("eu west".to_owned())
        );
        assert!(super::baggage(&HeaderMap::new()).is_none());
    }
}
