//! The method as o11y labels it, bounded whatever a client sends or an
//! application calls: the nine standard methods and `_OTHER`
//! (OpenTelemetry's value for any other method). Shared by the server layer
//! and the outbound client middleware.

use http::Method;

/// The `http_request_method` label (and `http.request.method` attribute) of
/// a method that is not one of the nine standard ones.
pub const OTHER_METHOD: &str = "_OTHER";

/// The standard methods, then `_OTHER`.
pub(crate) const METHODS: usize = 10;

const KNOWN: [Method; METHODS - 1] = [
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::DELETE,
    Method::CONNECT,
    Method::OPTIONS,
    Method::TRACE,
    Method::PATCH,
];

const NAMES: [&str; METHODS] = [
    "GET",
    "HEAD",
    "POST",
    "PUT",
    "DELETE",
    "CONNECT",
    "OPTIONS",
    "TRACE",
    "PATCH",
    OTHER_METHOD,
];

/// A method as a label: one of [`METHODS`] values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MethodLabel(u8);

impl MethodLabel {
    /// The label of `method`; methods are case-sensitive, so `get` is `_OTHER`.
    #[inline]
    pub(crate) fn of(method: &Method) -> MethodLabel {
        let index = KNOWN
            .iter()
            .position(|known| known == method)
            .unwrap_or(METHODS - 1);
        MethodLabel(index as u8)
    }

    pub(crate) fn as_str(self) -> &'static str {
        NAMES[self.index()]
    }

    pub(crate) fn is_other(self) -> bool {
        self.index() == METHODS - 1
    }

    pub(crate) fn index(self) -> usize {
        usize::from(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_map_to_bounded_labels() {
        for (method, label) in [
            (Method::GET, "GET"),
            (Method::HEAD, "HEAD"),
            (Method::POST, "POST"),
            (Method::PUT, "PUT"),
            (Method::DELETE, "DELETE"),
            (Method::CONNECT, "CONNECT"),
            (Method::OPTIONS, "OPTIONS"),
            (Method::TRACE, "TRACE"),
            (Method::PATCH, "PATCH"),
        ] {
            let mapped = MethodLabel::of(&method);
            assert_eq!(mapped.as_str(), label);
            assert!(!mapped.is_other());
        }
        for other in ["PURGE", "PROPFIND", "get", "Post", "BREW"] {
            let mapped = MethodLabel::of(&Method::from_bytes(other.as_bytes()).unwrap());
            assert_eq!(mapped.as_str(), OTHER_METHOD, "{other}");
            assert!(mapped.is_other());
        }
    }
}
