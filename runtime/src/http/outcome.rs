//! How a served request ended, as the server layer records it: the
//! status counted in the metrics and the access log, the status code and
//! `error.type` on the span, and the access log's `error` field.

use std::borrow::Cow;

use http::StatusCode;

/// How a request ended.
#[derive(Debug, Clone, Copy)]
pub(super) enum Outcome {
    /// The service answered with this status.
    Answered(StatusCode),
    /// The service returned an error (of this type) instead of a response.
    Failed(&'static str),
    /// The service panicked.
    Panicked,
    /// The future was dropped before the service answered.
    Cancelled,
}

/// nginx's "client closed request": the status counted for a request whose
/// future was dropped before it answered.
const CLIENT_CLOSED: u16 = 499;

impl Outcome {
    /// The status counted in the metrics and the access log.
    pub(super) fn status(self) -> StatusCode {
        match self {
            Outcome::Answered(status) => status,
            Outcome::Failed(_) | Outcome::Panicked => StatusCode::INTERNAL_SERVER_ERROR,
            Outcome::Cancelled => {
                StatusCode::from_u16(CLIENT_CLOSED).unwrap_or(StatusCode::BAD_REQUEST)
            }
        }
    }

    /// The span's `http.response.status_code`: none when nothing was sent.
    pub(super) fn status_sent(self) -> Option<StatusCode> {
        match self {
            Outcome::Answered(status) => Some(status),
            // A panic becomes a 500 (with CatchPanic; else the connection closes).
            Outcome::Panicked => Some(StatusCode::INTERNAL_SERVER_ERROR),
            Outcome::Failed(_) | Outcome::Cancelled => None,
        }
    }

    /// The span's `error.type` (OpenTelemetry: the status code for a 5xx).
    pub(super) fn error_type(self) -> Option<Cow<'static, str>> {
        match self {
            Outcome::Answered(status) if status.is_server_error() => {
                Some(Cow::Owned(status.as_str().to_owned()))
            }
            Outcome::Answered(_) => None,
            Outcome::Failed(type_name) => Some(Cow::Borrowed(type_name)),
            Outcome::Panicked => Some(Cow::Borrowed("panic")),
            Outcome::Cancelled => Some(Cow::Borrowed("cancelled")),
        }
    }

    /// The access log's `error` field, when the status alone does not say.
    pub(super) fn log_error(self) -> Option<&'static str> {
        match self {
            Outcome::Answered(_) => None,
            Outcome::Failed(_) => Some("error"),
            Outcome::Panicked => Some("panic"),
            Outcome::Cancelled => Some("cancelled"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_count_as_their_status() {
        let ok = Outcome::Answered(StatusCode::OK);
        assert_eq!(ok.status(), StatusCode::OK);
        assert_eq!(ok.error_type(), None);
        let not_found = Outcome::Answered(StatusCode::NOT_FOUND);
        assert_eq!(not_found.error_type(), None, "a 4xx is not a server error");
        let unavailable = Outcome::Answered(StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(unavailable.error_type().as_deref(), Some("503"));
        assert_eq!(
            Outcome::Panicked.status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        assert_eq!(Outcome::Panicked.error_type().as_deref(), Some("panic"));
        assert_eq!(Outcome::Cancelled.status().as_u16(), 499);
        assert_eq!(Outcome::Cancelled.status_sent(), None);
        assert_eq!(Outcome::Failed("io::Error").status().as_u16(), 500);
        assert_eq!(Outcome::Failed("io::Error").log_error(), Some("error"));
    }
}
