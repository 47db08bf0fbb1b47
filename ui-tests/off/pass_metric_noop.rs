// With the facade feature `off`, `#[metric]` still checks the declaration
// and gives the same API (`labels(..)` with one parameter per label,
// `inc()`, handles), but the metric is not registered: the catalog and
// `/metrics` do not show it.
#![deny(warnings)]

use o11y::{LabelValue, metric};

#[derive(LabelValue)]
enum Method {
    Card,
}

#[metric(counter, help = "Payments accepted", labels(status, method))]
static PAYMENTS: o11y::Counter;

#[metric(gauge, help = "Jobs in the queue")]
static QUEUE_DEPTH: o11y::Gauge;

#[metric(histogram, help = "Request latency", unit = "seconds", buckets = [0.1, 1.0])]
static REQUEST_DURATION_SECONDS: o11y::Histogram;

fn main() {
    let handle = PAYMENTS.labels("ok", Method::Card);
    handle.inc();
    handle.inc_by(2);
    PAYMENTS.labels(String::from("declined"), "card").inc();
    QUEUE_DEPTH.set(3.0);
    REQUEST_DURATION_SECONDS.observe(0.5);

    let catalog = o11y::metrics::catalog();
    for name in ["payments_total", "queue_depth", "request_duration_seconds"] {
        assert!(
            !catalog.iter().any(|m| m.name == name),
            "{name} is registered with `off`"
        );
    }
    let exposition = o11y::metrics::render(o11y::metrics::Format::Prometheus);
    assert!(!exposition.contains("payments_total"), "{exposition}");
}
