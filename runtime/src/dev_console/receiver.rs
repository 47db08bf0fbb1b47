//! The OTLP/HTTP receiver: `POST /o11y/v1/traces` and `/o11y/v1/logs` with
//! a protobuf body (uncompressed), as another process's OTLP exporter sends
//! them with `OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf`. The body's size
//! was bounded by the server before it got here.

use bytes::Bytes;
use http::header::{CONTENT_ENCODING, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Response, StatusCode};

use crate::console_store::{self, Store};

const PROTOBUF: &str = "application/x-protobuf";

/// Stores what the request carries; answers as an OTLP/HTTP collector does
/// (200 with an empty protobuf response), or says what is wrong.
pub(super) fn receive(
    store: &Store,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Response<Bytes> {
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type.starts_with(PROTOBUF) {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &format!(
                "the dev console receives OTLP as protobuf (Content-Type: {PROTOBUF}), not \
                 {content_type:?}: set OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf"
            ),
        );
    }
    if let Some(encoding) = headers.get(CONTENT_ENCODING)
        && encoding.as_bytes() != b"identity"
    {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "the dev console receives uncompressed OTLP: unset OTEL_EXPORTER_OTLP_COMPRESSION",
        );
    }
    let stored = if path == "/v1/traces" {
        console_store::decode_traces(body).map(|spans| store.add_spans(spans))
    } else {
        console_store::decode_logs(body).map(|logs| store.add_logs(logs))
    };
    match stored {
        // An Export*ServiceResponse with no partial success: no fields.
        Ok(()) => {
            let mut response = Response::new(Bytes::new());
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static(PROTOBUF));
            response
        }
        Err(error) => refuse(StatusCode::BAD_REQUEST, &error.0),
    }
}

fn refuse(status: StatusCode, message: &str) -> Response<Bytes> {
    let mut response = Response::new(Bytes::from(format!("{message}\n")));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
