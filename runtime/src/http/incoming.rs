//! Which of the headers the server layer reads (`X-Request-ID`,
//! `traceparent`, `baggage`) a request carries, found in one pass over its
//! header names; only a name found is then looked up, by the module that
//! reads it. Most requests carry none of them, and a map lookup hashes the
//! name and probes the map, carried or not. Measured per request
//! (`benches/http.rs`, instructions, `o11y_quiet`): the pass costs 506 fewer
//! than the three lookups with only a `host` header (as `wrk` sends), and
//! 1,064 fewer with twenty headers (as a browser sends).

use http::HeaderMap;

use super::request_id::REQUEST_ID_HEADER;

/// The names, among those the layer reads, that a request's headers hold
/// (once or more: what a repeated header means is for its reader).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Carried {
    pub(crate) request_id: bool,
    /// A `tracestate` without it is no parent, so it is not looked for.
    pub(crate) traceparent: bool,
    pub(crate) baggage: bool,
}

impl Carried {
    pub(crate) fn of(headers: &HeaderMap) -> Self {
        let mut carried = Carried::default();
        // Header names are lowercase in `http`.
        for name in headers.keys() {
            match name.as_str() {
                REQUEST_ID_HEADER => carried.request_id = true,
                "traceparent" => carried.traceparent = true,
                "baggage" => carried.baggage = true,
                _ => {}
            }
        }
        carried
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    #[test]
    fn finds_each_name_among_others_whatever_its_case_in_the_request() {
        assert_eq!(Carried::of(&HeaderMap::new()), Carried::default());
        let mut headers = HeaderMap::new();
        for name in ["host", "accept", "user-agent", "tracestate", "cookie"] {
            headers.insert(name, HeaderValue::from_static("x"));
        }
        assert_eq!(
            Carried::of(&headers),
            Carried::default(),
            "tracestate alone"
        );
        headers.append("X-Request-ID", HeaderValue::from_static("a"));
        headers.append("x-request-id", HeaderValue::from_static("b"));
        assert_eq!(
            Carried::of(&headers),
            Carried {
                request_id: true,
                ..Carried::default()
            }
        );
        headers.insert("TraceParent", HeaderValue::from_static("00-..."));
        headers.insert("baggage", HeaderValue::from_static("k=v"));
        assert_eq!(
            Carried::of(&headers),
            Carried {
                request_id: true,
                traceparent: true,
                baggage: true,
            }
        );
    }
}
