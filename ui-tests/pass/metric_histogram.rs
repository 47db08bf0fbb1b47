// Histograms: default buckets, integer and float buckets (negative too),
// a unit, labels, and a timer.
#![deny(warnings)]

use o11y::{Histogram, metric};

#[metric(histogram, help = "Request latency", unit = "seconds")]
static REQUEST_DURATION_SECONDS: Histogram;

#[metric(histogram, help = "Items per batch", buckets = [1, 5, 10, 50, 100])]
static BATCH_SIZE: Histogram;

#[metric(histogram, help = "Temperature readings", unit = "celsius", buckets = [-10.5, 0, 0.5, 2.5e1])]
static SENSOR_CELSIUS: Histogram;

#[metric(
    histogram,
    help = "Query latency by table",
    unit = "seconds",
    labels(table),
    buckets = [0.001, 0.01, 0.1, 1.0],
)]
static QUERY_DURATION_SECONDS: Histogram;

fn main() {
    REQUEST_DURATION_SECONDS.observe(0.2);
    {
        let _timer = REQUEST_DURATION_SECONDS.start_timer();
    }
    BATCH_SIZE.observe(7.0);
    SENSOR_CELSIUS.observe(-3.0);
    QUERY_DURATION_SECONDS.labels("orders").observe(0.05);
    assert_eq!(BATCH_SIZE.snapshot().count(), 1);

    let catalog = o11y::metrics::catalog();
    let entry = |name: &str| catalog.iter().find(|m| m.name == name).unwrap().clone();
    assert_eq!(entry("batch_size").buckets, &[1.0, 5.0, 10.0, 50.0, 100.0]);
    assert_eq!(entry("sensor_celsius").buckets, &[-10.5, 0.0, 0.5, 25.0]);
    assert_eq!(
        entry("query_duration_seconds").buckets,
        &[0.001, 0.01, 0.1, 1.0]
    );
    assert_eq!(entry("query_duration_seconds").labels, &["table"]);
    assert!(!entry("request_duration_seconds").buckets.is_empty());
}
