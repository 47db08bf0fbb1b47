//! The RED metrics of the server layer, named after the OpenTelemetry HTTP
//! semantic conventions:
//! `http_server_request_duration_seconds{http_request_method,http_route,http_response_status_code}`
//! (a histogram whose exemplars link sampled requests to their trace) and
//! `http_server_active_requests{http_request_method}`; and the handles the
//! hot path keeps so that recording never hashes label values.

use std::sync::OnceLock;

use http::StatusCode;
use opentelemetry::trace::{SpanId, TraceId};

use super::method::{METHODS, MethodLabel};
use crate::metrics::register_own_metric;
use crate::metrics::{GaugeHandle, GaugeVec, HistogramHandle, HistogramVec, MetricDesc};

static REQUEST_DURATION: HistogramVec<3> = HistogramVec::new(
    MetricDesc::histogram(
        "http_server_request_duration_seconds",
        "Duration of HTTP server requests",
    )
    .unit("seconds")
    .labels(&[
        "http_request_method",
        "http_route",
        "http_response_status_code",
    ])
    // The lifecycle links a sampled request's own span (`*_with_span`); a
    // plain call is one it did not sample, which must not borrow another span.
    .exemplars(false),
);
static ACTIVE_REQUESTS: GaugeVec<1> = GaugeVec::new(
    MetricDesc::gauge(
        "http_server_active_requests",
        "HTTP server requests in progress",
    )
    .labels(&["http_request_method"]),
);
register_own_metric!(REQUEST_DURATION);
register_own_metric!(ACTIVE_REQUESTS);

/// The in-progress gauge of `method`, resolved once per method.
pub(crate) fn active(method: MethodLabel) -> &'static GaugeHandle {
    static HANDLES: [OnceLock<GaugeHandle>; METHODS] = [const { OnceLock::new() }; METHODS];
    HANDLES[method.index()].get_or_init(|| ACTIVE_REQUESTS.labels([method.as_str()]))
}

/// How many status codes one (method, route) keeps handles for; a route
/// that answers with more distinct codes looks the rest up by label.
const STATUS_SLOTS: usize = 8;

/// The duration series of one (method, route), by status code: slots filled
/// on first use, each a lock-free `OnceLock`, probed in order.
pub(crate) struct Durations {
    slots: [OnceLock<(u16, HistogramHandle)>; STATUS_SLOTS],
}

impl Durations {
    pub(crate) const fn new() -> Self {
        Durations {
            slots: [const { OnceLock::new() }; STATUS_SLOTS],
        }
    }

    /// Records one request of `method` on `route` (the label value) that
    /// answered `status` after `seconds`; `exemplar`: its sampled span.
    pub(crate) fn observe(
        &self,
        method: MethodLabel,
        route: &str,
        status: StatusCode,
        seconds: f64,
        exemplar: Option<(TraceId, SpanId)>,
    ) {
        let code = status.as_u16();
        let resolve = || REQUEST_DURATION.labels([method.as_str(), route, status.as_str()]);
        let mut found = None;
        for slot in &self.slots {
            // Two threads may race for an empty slot with different codes:
            // the loser sees the winner's code and moves on.
            let (slot_code, handle) = slot.get_or_init(|| (code, resolve()));
            if *slot_code == code {
                found = Some(handle);
                break;
            }
        }
        let spill;
        let handle = match found {
            Some(handle) => handle,
            None => {
                spill = resolve();
                &spill
            }
        };
        match exemplar {
            Some((trace_id, span_id)) => handle.observe_with_span(seconds, trace_id, span_id),
            None => handle.observe(seconds),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(method: &str, route: &str, status: &str) -> u64 {
        REQUEST_DURATION
            .labels([method, route, status])
            .snapshot()
            .count()
    }

    #[test]
    fn durations_land_in_their_status_series_past_the_slots_too() {
        let route = "/unit-test/durations/{id}";
        let durations = Durations::new();
        let get = MethodLabel::of(&http::Method::GET);
        let codes: Vec<u16> = (0..STATUS_SLOTS as u16 + 3).map(|i| 200 + i).collect();
        for code in &codes {
            let status = StatusCode::from_u16(*code).unwrap();
            durations.observe(get, route, status, 0.01, None);
            durations.observe(get, route, status, 0.02, None);
        }
        for code in &codes {
            assert_eq!(count("GET", route, &code.to_string()), 2, "{code}");
        }
        assert_eq!(count("POST", route, "200"), 0);
    }

    #[test]
    fn the_active_gauge_is_one_series_per_method() {
        let put = MethodLabel::of(&http::Method::PUT);
        let gauge = active(put);
        gauge.inc();
        assert_eq!(ACTIVE_REQUESTS.labels(["PUT"]).get(), 1.0);
        gauge.dec();
        assert_eq!(ACTIVE_REQUESTS.labels(["PUT"]).get(), 0.0);
        assert!(std::ptr::eq(gauge, active(put)));
    }
}
