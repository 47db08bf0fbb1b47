//! The plain recording calls of a counter and a histogram (`inc`,
//! `inc_by`, `observe`) under the subscriber `init()` installs: inside a
//! sampled span they link it as exemplar; outside any span, inside a
//! sampled-out span, or on a metric declared with `exemplars(false)`, they
//! link nothing.
//!
//! One test function: `into_subscriber` sets the process-wide
//! instrumentation flags, and a guard dropped by a test running alongside
//! would clear them under another.
//!
//! Not with `off`: the instrumentation flags stay 0 there, and plain calls
//! link nothing.

#![cfg(not(feature = "off"))]

use o11y_runtime::metrics::{CounterVec, Exemplar, HistogramVec, Metric, MetricDesc, SeriesValue};
use o11y_runtime::{Config, Setup};
use tracing::Dispatch;

static ORDERS: CounterVec<1> =
    CounterVec::new(MetricDesc::counter("test_orders_total", "Orders placed").labels(&["case"]));
static CHECKOUT: HistogramVec<1> = HistogramVec::new(
    MetricDesc::histogram("test_checkout_duration_seconds", "Checkout time")
        .unit("seconds")
        .labels(&["case"]),
);
static QUIET: CounterVec<1> = CounterVec::new(
    MetricDesc::counter("test_quiet_total", "Counted without exemplars")
        .labels(&["case"])
        .exemplars(false),
);

/// o11y's subscriber with tracing on and `sample_rate`, exporting nowhere.
fn dispatch(sample_rate: f64) -> (Dispatch, o11y_runtime::Guard) {
    let config = Config::builder()
        .env_vars(Vec::<(String, String)>::new())
        .no_config_file()
        .profile(o11y_runtime::config::Profile::Test)
        // The test profile's level (warn) would filter the info spans out.
        .log_level("info")
        .tracing_enabled(true)
        .sample_rate(sample_rate)
        .build()
        .expect("valid config");
    let (subscriber, guard) = Setup::new(config).into_subscriber().expect("subscriber");
    (Dispatch::new(subscriber), guard)
}

/// The exemplar of the series `case` of a counter, or of its histogram
/// buckets.
fn exemplars(metric: &dyn Metric, case: &str) -> Vec<Exemplar> {
    let mut found = Vec::new();
    metric.visit(&mut |labels, value| {
        if labels != [case] {
            return;
        }
        match value {
            SeriesValue::Counter(_, exemplar) => found.extend(exemplar),
            SeriesValue::Histogram(snapshot) => found.extend(snapshot.exemplars.iter().flatten()),
            SeriesValue::Gauge(_) => {}
        }
    });
    found
}

/// Records the case's series once each, in the current context.
fn record(case: &str) {
    ORDERS.labels([case]).inc();
    CHECKOUT.labels([case]).observe(0.2);
    QUIET.labels([case]).inc_by(3);
}

#[test]
fn plain_calls_link_the_sampled_span_and_nothing_else() {
    let (sampled, _sampled_guard) = dispatch(1.0);
    let (sampled_out, _sampled_out_guard) = dispatch(0.0);

    let ids = tracing::dispatcher::with_default(&sampled, || {
        let span = tracing::info_span!("checkout");
        let _entered = span.enter();
        record("sampled");
        // A second series' first add of 64, in one call: linked too.
        ORDERS.labels(["sampled_by_64"]).inc_by(64);
        o11y_runtime::context::current_span_ids().expect("inside a span")
    });
    assert!(ids.sampled);
    for metric in [&ORDERS as &dyn Metric, &CHECKOUT] {
        let linked = exemplars(metric, "sampled");
        assert_eq!(linked.len(), 1, "{}: {linked:?}", metric.desc().name);
        assert_eq!(linked[0].trace_id.to_string(), ids.trace_id);
        assert_eq!(linked[0].span_id.to_string(), ids.span_id);
    }
    assert_eq!(exemplars(&ORDERS, "sampled")[0].value, 1.0);
    assert_eq!(exemplars(&CHECKOUT, "sampled")[0].value, 0.2);
    assert_eq!(exemplars(&ORDERS, "sampled_by_64")[0].value, 64.0);
    assert_eq!(
        exemplars(&QUIET, "sampled"),
        [],
        "declared with exemplars(false)"
    );

    tracing::dispatcher::with_default(&sampled, || record("no_span"));
    tracing::dispatcher::with_default(&sampled_out, || {
        let span = tracing::info_span!("checkout");
        let _entered = span.enter();
        assert!(
            !o11y_runtime::context::current_span_ids()
                .expect("a span")
                .sampled
        );
        record("sampled_out");
    });
    for case in ["no_span", "sampled_out"] {
        for metric in [&ORDERS as &dyn Metric, &CHECKOUT, &QUIET] {
            assert_eq!(
                exemplars(metric, case),
                [],
                "{case}: {}",
                metric.desc().name
            );
        }
    }

    // The explicit calls still link the span, exemplars(false) or not.
    tracing::dispatcher::with_default(&sampled, || {
        let span = tracing::info_span!("explicit");
        let _entered = span.enter();
        QUIET.labels(["explicit"]).inc_by_with_exemplar(2);
    });
    assert_eq!(exemplars(&QUIET, "explicit").len(), 1);
}
