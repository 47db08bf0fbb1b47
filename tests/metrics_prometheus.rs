//! A real Prometheus 2.42 (exemplar storage on) scrapes the standalone
//! metrics server of a process that records a labelled counter and a
//! histogram inside a sampled span, and rotel receives that span: the
//! series arrive with the right values and labels, and the exemplars carry
//! the trace id of the span rotel received. Twice: with the explicit
//! `_with_exemplar` calls on metrics declared by hand, and with the plain
//! `inc()` / `observe(v)` of `#[metric]` statics inside an `#[observe]`
//! function.
//!
//! The child process (which calls `o11y::init()`) serves its metrics and
//! waits until Prometheus has scraped the final values; the parent then
//! checks Prometheus's answers at the time they were current (once the
//! child is gone its series go stale) and rotel's spans.

use o11y_test_support as common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::scenario::{o11y_child, report, reported};
use common::unix_now;
use o11y::metrics::{CounterVec, HistogramVec, MetricDesc};
use serde_json::{Value, json};

static PAYMENTS: CounterVec<2> = CounterVec::new(
    MetricDesc::counter("test_prom_payments_total", "Payments processed")
        .labels(&["status", "method"]),
);
o11y::register_metric!(PAYMENTS);

static CHECKOUT: HistogramVec<1> = HistogramVec::new(
    MetricDesc::histogram("test_prom_checkout_duration_seconds", "Checkout latency")
        .unit("seconds")
        .labels(&["route"]),
);
o11y::register_metric!(CHECKOUT);

const SCRAPE_INTERVAL: Duration = Duration::from_secs(1);
/// Generous: the first scrape lands ~1–5 s after the target is added.
const PROMETHEUS_WAIT: Duration = Duration::from_secs(30);

/// Records the metrics inside a sampled span; returns its ids.
fn checkout() -> Value {
    let span = tracing::info_span!("checkout", otel.kind = "server");
    let _entered = span.enter();
    let ids = o11y::trace::current_span_ids().expect("inside a span");
    assert!(ids.sampled, "the dev profile samples every root span");
    let paid = PAYMENTS.labels(["success", "card"]);
    paid.inc_by_with_exemplar(2);
    paid.inc_by_with_exemplar(3);
    let latency = CHECKOUT.labels(["/checkout"]);
    for seconds in [0.05, 0.2, 0.1] {
        latency.observe_with_exemplar(seconds);
    }
    json!({ "trace_id": ids.trace_id, "span_id": ids.span_id })
}

/// One scalar value of each series of an instant query's result, by the
/// label `label`.
fn values_by(result: &[Value], label: &str) -> Vec<(String, String)> {
    let mut values: Vec<(String, String)> = result
        .iter()
        .map(|series| {
            let key = series["metric"][label]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            (
                key,
                series["value"][1].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    values.sort();
    values
}

/// The scrape target that only records what Prometheus sends: the request
/// head of its first scrape.
struct Sniffer {
    addr: String,
    head: Arc<Mutex<Option<String>>>,
}

impl Sniffer {
    fn start() -> Sniffer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind sniffer");
        let addr = listener.local_addr().expect("local_addr").to_string();
        let head = Arc::new(Mutex::new(None));
        let seen = head.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut chunk) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                seen.lock()
                    .unwrap()
                    .get_or_insert_with(|| String::from_utf8_lossy(&buf).into_owned());
                let body = "sniffer_up 1\n";
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\n\
                     Connection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Sniffer { addr, head }
    }

    /// The `Accept` header of the first scrape.
    fn accept(&self) -> String {
        let head = common::wait_until(
            PROMETHEUS_WAIT,
            || self.head.lock().unwrap().clone(),
            Option::is_some,
            |_| "Prometheus never scraped the sniffer".to_owned(),
        )
        .unwrap_or_default();
        head.lines()
            .find_map(|line| {
                line.split_once(':')
                    .filter(|(name, _)| name.eq_ignore_ascii_case("accept"))
            })
            .map(|(_, value)| value.trim().to_owned())
            .unwrap_or_else(|| panic!("no Accept header in:\n{head}"))
    }
}

#[test]
fn prometheus_scrapes_series_and_exemplars() {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    let Some(prometheus) = common::Prometheus::start() else {
        return;
    };
    // Parent only (the child re-runs this function from the top).
    let sniffer = (!common::is_child()).then(|| {
        let sniffer = Sniffer::start();
        prometheus.add_scrape_target(&sniffer.addr, SCRAPE_INTERVAL);
        sniffer
    });

    let output = o11y_child("prometheus_scrapes_series_and_exemplars")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
        .timeout(Duration::from_secs(120))
        .run(|| {
            let _o11y = o11y::init().expect("init");
            let metrics = o11y::metrics::serve("127.0.0.1:0").expect("serve");
            let target = metrics.local_addr().to_string();
            report("target", json!(target));

            let span = checkout();
            report("span", span);
            // Outside any span: counted, no exemplar.
            PAYMENTS.labels(["declined", "card"]).inc();
            assert!(
                o11y::flush(Duration::from_secs(10)),
                "the span was not exported"
            );

            prometheus.add_scrape_target(&target, SCRAPE_INTERVAL);
            // Serve until Prometheus has scraped the final values, exemplars included.
            prometheus.wait_for_query(
                &format!("test_prom_payments_total{{instance=\"{target}\"}}"),
                PROMETHEUS_WAIT,
                |result| {
                    values_by(result, "status")
                        == [
                            ("declined".into(), "1".into()),
                            ("success".into(), "5".into()),
                        ]
                },
            );
            prometheus.wait_for_query(
                &format!("test_prom_checkout_duration_seconds_count{{instance=\"{target}\"}}"),
                PROMETHEUS_WAIT,
                |result| values_by(result, "route") == [("/checkout".into(), "3".into())],
            );
            common::wait_until(
                PROMETHEUS_WAIT,
                || {
                    prometheus
                        .query_exemplars("{__name__=~\"test_prom_.*\"}", Duration::from_secs(300))
                },
                |answer| {
                    answer["data"]
                        .as_array()
                        .is_some_and(|series| series.len() >= 2)
                },
                |answer| format!("exemplars: {answer}"),
            );
            report("scraped_at", json!(unix_now()));
            prometheus.remove_scrape_target(&target);
        });

    let target = reported(&output, "target").as_str().unwrap().to_owned();
    let span = reported(&output, "span");
    let trace_id = span["trace_id"].as_str().unwrap();
    let span_id = span["span_id"].as_str().unwrap();
    let scraped_at = reported(&output, "scraped_at").as_f64().unwrap();

    // The series, as they were while the child served them.
    let at = |promql: &str| prometheus.query_vector_at(promql, scraped_at);
    let payments = at(&format!(
        "test_prom_payments_total{{instance=\"{target}\"}}"
    ));
    assert_eq!(
        values_by(&payments, "status"),
        [
            ("declined".into(), "1".into()),
            ("success".into(), "5".into())
        ]
    );
    for series in &payments {
        assert_eq!(series["metric"]["method"], "card", "{series}");
        assert_eq!(series["metric"]["job"], "o11y", "{series}");
    }
    let buckets = at(&format!(
        "test_prom_checkout_duration_seconds_bucket{{instance=\"{target}\",route=\"/checkout\"}}"
    ));
    let cumulative = values_by(&buckets, "le");
    for (le, count) in [("0.05", "1"), ("0.1", "2"), ("0.25", "3"), ("+Inf", "3")] {
        assert!(
            cumulative.contains(&(le.to_owned(), count.to_owned())),
            "le={le}: {cumulative:?}"
        );
    }
    let sum = at(&format!(
        "test_prom_checkout_duration_seconds_sum{{instance=\"{target}\"}}"
    ));
    let sum: f64 = sum[0]["value"][1].as_str().unwrap().parse().unwrap();
    assert!((sum - 0.35).abs() < 1e-9, "{sum}");

    // The exemplars link to the span.
    let answer =
        prometheus.query_exemplars("{__name__=~\"test_prom_.*\"}", Duration::from_secs(600));
    let series = answer["data"].as_array().cloned().unwrap_or_default();
    let mut linked = Vec::new();
    for entry in &series {
        let name = entry["seriesLabels"]["__name__"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        for exemplar in entry["exemplars"].as_array().into_iter().flatten() {
            assert_eq!(exemplar["labels"]["trace_id"], trace_id, "{entry}");
            assert_eq!(exemplar["labels"]["span_id"], span_id, "{entry}");
            linked.push((
                name.clone(),
                exemplar["value"].as_str().unwrap_or_default().to_owned(),
            ));
        }
    }
    linked.sort();
    // The counter's latest increment (3) inside the span; the histogram's latest
    // observation per bucket: 0.05 (le=0.05), 0.1 (le=0.1), 0.2 (le=0.25).
    assert!(
        linked.contains(&("test_prom_payments_total".into(), "3".into())),
        "{linked:?}\n{answer}"
    );
    for value in ["0.05", "0.1", "0.2"] {
        assert!(
            linked.contains(&(
                "test_prom_checkout_duration_seconds_bucket".into(),
                value.into()
            )),
            "{value}: {linked:?}\n{answer}"
        );
    }

    // ... and that span reached rotel.
    let spans = rotel.wait_for_spans(Duration::from_secs(10), |spans| {
        spans.iter().any(|s| s["span_id"] == span_id)
    });
    let received = spans.iter().find(|s| s["span_id"] == span_id).unwrap();
    assert_eq!(received["trace_id"], trace_id);
    assert_eq!(received["name"], "checkout");

    let accept = sniffer.expect("parent").accept();
    eprintln!("Prometheus scrapes with Accept: {accept}");
    assert!(
        accept.starts_with("application/openmetrics-text"),
        "{accept}"
    );
    assert_eq!(
        o11y::metrics::Format::from_accept(Some(&accept)),
        o11y::metrics::Format::OpenMetrics
    );
}

#[cfg(not(feature = "off"))]
mod plain_calls {
    //! `#[metric]` statics recorded with the plain calls inside an
    //! `#[observe]` function (`off` registers neither, so not with it).

    use super::*;

    #[o11y::metric(
        counter,
        name = "test_auto_items_sold_total",
        help = "Items sold, by category",
        labels(category)
    )]
    static ITEMS_SOLD: o11y::Counter;

    #[o11y::metric(
        histogram,
        name = "test_auto_pick_duration_seconds",
        unit = "seconds",
        help = "Time to pick an order",
        buckets = [0.1, 0.5]
    )]
    static PICK_SECONDS: o11y::Histogram;

    /// The dev profile samples the observed call's span; the plain calls
    /// inside link it.
    #[o11y::observe]
    fn sell(category: &str) -> Value {
        ITEMS_SOLD.labels(category).inc();
        PICK_SECONDS.observe(0.25);
        let ids = o11y::trace::current_span_ids().expect("inside the observed span");
        assert!(ids.sampled, "the dev profile samples every root span");
        json!({ "trace_id": ids.trace_id, "span_id": ids.span_id })
    }

    #[test]
    fn plain_calls_in_an_observed_function_link_its_trace() {
        let Some(rotel) = common::Rotel::start() else {
            return;
        };
        let Some(prometheus) = common::Prometheus::start() else {
            return;
        };
        let output = o11y_child("plain_calls::plain_calls_in_an_observed_function_link_its_trace")
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
            .timeout(Duration::from_secs(120))
            .run(|| {
                let _o11y = o11y::init().expect("init");
                let metrics = o11y::metrics::serve("127.0.0.1:0").expect("serve");
                let target = metrics.local_addr().to_string();
                report("target", json!(target));

                report("span", sell("books"));
                // Outside any span: counted, no exemplar.
                ITEMS_SOLD.labels("outside").inc();
                assert!(
                    o11y::flush(Duration::from_secs(10)),
                    "the span was not exported"
                );

                prometheus.add_scrape_target(&target, SCRAPE_INTERVAL);
                // Serve until Prometheus has the exemplars of both metrics.
                prometheus.wait_for_query(
                    &format!("test_auto_items_sold_total{{instance=\"{target}\"}}"),
                    PROMETHEUS_WAIT,
                    |result| {
                        values_by(result, "category")
                            == [("books".into(), "1".into()), ("outside".into(), "1".into())]
                    },
                );
                common::wait_until(
                    PROMETHEUS_WAIT,
                    || {
                        prometheus.query_exemplars(
                            &format!("{{__name__=~\"test_auto_.*\",instance=\"{target}\"}}"),
                            Duration::from_secs(300),
                        )
                    },
                    |answer| {
                        answer["data"]
                            .as_array()
                            .is_some_and(|series| series.len() >= 2)
                    },
                    |answer| format!("exemplars: {answer}"),
                );
                report("scraped", json!(true));
                prometheus.remove_scrape_target(&target);
            });

        let target = reported(&output, "target").as_str().unwrap().to_owned();
        let span = reported(&output, "span");
        let trace_id = span["trace_id"].as_str().unwrap();
        let span_id = span["span_id"].as_str().unwrap();
        assert_eq!(reported(&output, "scraped"), json!(true));

        let answer = prometheus.query_exemplars(
            &format!("{{__name__=~\"test_auto_.*\",instance=\"{target}\"}}"),
            Duration::from_secs(600),
        );
        let mut linked = Vec::new();
        for entry in answer["data"].as_array().into_iter().flatten() {
            let labels = &entry["seriesLabels"];
            for exemplar in entry["exemplars"].as_array().into_iter().flatten() {
                assert_eq!(exemplar["labels"]["trace_id"], trace_id, "{entry}");
                assert_eq!(exemplar["labels"]["span_id"], span_id, "{entry}");
                linked.push(format!(
                    "{}{{{}}} {}",
                    labels["__name__"].as_str().unwrap_or_default(),
                    labels["category"]
                        .as_str()
                        .or(labels["le"].as_str())
                        .unwrap_or_default(),
                    exemplar["value"].as_str().unwrap_or_default(),
                ));
            }
        }
        linked.sort();
        // The counter's series of the call, not the one counted outside;
        // the bucket the observation fell in.
        assert_eq!(
            linked,
            [
                "test_auto_items_sold_total{books} 1",
                "test_auto_pick_duration_seconds_bucket{0.5} 0.25",
            ],
            "{answer}"
        );

        // The linked trace is the one rotel received, from the observed call.
        let spans = rotel.wait_for_spans(Duration::from_secs(10), |spans| {
            spans.iter().any(|s| s["span_id"] == span_id)
        });
        let received = spans.iter().find(|s| s["span_id"] == span_id).unwrap();
        assert_eq!(received["trace_id"], trace_id);
        assert!(
            received["name"]
                .as_str()
                .unwrap_or_default()
                .ends_with("sell"),
            "{received}"
        );
    }
}
