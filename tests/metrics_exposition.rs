//! Metrics exposition through the public API: every metric kind, labelled
//! and not, rendered as Prometheus text and linted by the real `promtool
//! check metrics`; both formats parsed back and checked for structure; the
//! cardinality guard under a flood of 1,000,000 label values (series kept at
//! the cap, overflow counted, one warning, bounded memory); per-metric and
//! global series caps.
//!
//! The duplicate-declaration checks across crates live in the fixture
//! workspace members under `tests/fixtures/` (`metrics-dup-app`'s own
//! tests), since what a binary's registry holds is decided at link time.

use o11y_test_support as common;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use common::scenario::{json_lines, o11y_child, report, reported};
use o11y::metrics::{
    Counter, CounterVec, DEFAULT_SERIES_CAP, Format, Gauge, GaugeVec, Histogram, HistogramVec,
    MetricDesc, OVERFLOW_LABEL_VALUE, render,
};
use serde_json::{Value, json};

use exposition::{Family, Syntax, parse, sample_value};

// ---------------------------------------------------------------------------
// Every kind, labelled and not (the promtool test).

static ORDERS: Counter = Counter::new(MetricDesc::counter("expo_orders_total", "Orders placed"));
static IDLE: Counter = Counter::new(MetricDesc::counter(
    "expo_idle_total",
    "Never incremented, so it shows 0",
));
static IN_FLIGHT: Gauge = Gauge::new(MetricDesc::gauge(
    "expo_in_flight",
    r#"Requests in progress; help with "quotes" and a \ backslash"#,
));
static TEMPERATURE: Gauge = Gauge::new(
    MetricDesc::gauge(
        "expo_temperature_celsius",
        "A gauge with a unit, below zero",
    )
    .unit("celsius"),
);
static LATENCY: Histogram = Histogram::new(
    MetricDesc::histogram(
        "expo_request_duration_seconds",
        "Request latency, on the default buckets",
    )
    .unit("seconds"),
);
static PAYLOAD: Histogram = Histogram::new(
    MetricDesc::histogram(
        "expo_payload_size_bytes",
        "Payload sizes, on custom buckets",
    )
    .unit("bytes")
    .buckets(&[64.0, 1024.0, 65536.0]),
);
static REQUESTS: CounterVec<2> = CounterVec::new(
    MetricDesc::counter("expo_requests_total", "Requests served, by route and code")
        .labels(&["route", "code"]),
);
static SENT: CounterVec<1> = CounterVec::new(
    MetricDesc::counter("expo_sent_bytes_total", "Bytes sent, by peer")
        .unit("bytes")
        .labels(&["peer"]),
);
static UNUSED: CounterVec<1> = CounterVec::new(
    MetricDesc::counter(
        "expo_unused_total",
        "A labelled counter never used: no series",
    )
    .labels(&["kind"]),
);
static QUEUE: GaugeVec<1> = GaugeVec::new(
    MetricDesc::gauge(
        "expo_queue_depth",
        "Jobs waiting, by queue.\nA second line of help.",
    )
    .labels(&["queue"]),
);
static QUERIES: HistogramVec<2> = HistogramVec::new(
    MetricDesc::histogram(
        "expo_db_query_duration_seconds",
        "Query time, by table and operation",
    )
    .unit("seconds")
    .buckets(&[0.001, 0.01, 0.1, 1.0])
    .labels(&["table", "operation"]),
);
static RESPONSES: HistogramVec<1> = HistogramVec::new(
    MetricDesc::histogram(
        "expo_response_duration_seconds",
        "Response time on the default buckets",
    )
    .unit("seconds")
    .labels(&["route"]),
);

o11y::register_metric!(ORDERS);
o11y::register_metric!(IDLE);
o11y::register_metric!(IN_FLIGHT);
o11y::register_metric!(TEMPERATURE);
o11y::register_metric!(LATENCY);
o11y::register_metric!(PAYLOAD);
o11y::register_metric!(REQUESTS);
o11y::register_metric!(SENT);
o11y::register_metric!(UNUSED);
o11y::register_metric!(QUEUE);
o11y::register_metric!(QUERIES);
o11y::register_metric!(RESPONSES);

/// Label values that need escaping (`"`, `\`, newline) or look like syntax.
const TRICKY: [&str; 5] = [
    "/say \"hi\"",
    "C:\\temp\\",
    "line one\nline two",
    "café ✓ # not a comment",
    "a,b=\"c\"}",
];

#[test]
fn promtool_accepts_every_kind_without_lint() {
    let Some(promtool) = promtool() else {
        return;
    };
    let output = o11y_child("promtool_accepts_every_kind_without_lint").run(|| {
        let _o11y = o11y::init().expect("init");
        ORDERS.inc_by(3);
        // The dev profile samples every trace: this increment carries an exemplar.
        tracing::info_span!("checkout").in_scope(|| ORDERS.inc_by_with_exemplar(2));
        IN_FLIGHT.set(7.0);
        IN_FLIGHT.dec();
        TEMPERATURE.set(-12.5);
        for value in [0.003, 0.2, 0.2, 42.0] {
            LATENCY.observe(value);
        }
        tracing::info_span!("upload").in_scope(|| PAYLOAD.observe_with_exemplar(512.0));
        PAYLOAD.observe(1e6);
        for (i, value) in TRICKY.iter().enumerate() {
            REQUESTS.labels([value, "200"]).inc_by(i as u64 + 1);
            QUEUE.labels([value]).set(i as f64 - 1.5);
            QUERIES.labels(["orders", value]).observe(0.05 * i as f64);
        }
        REQUESTS.labels(["/health", "503"]).inc();
        SENT.labels(["10.0.0.1:443"]).inc_by(1 << 20);
        {
            let handle = RESPONSES.labels(["/orders/{id}"]);
            let _timer = handle.start_timer();
        }
        report("prometheus", Value::from(render(Format::Prometheus)));
        report("openmetrics", Value::from(render(Format::OpenMetrics)));
    });
    let text = reported(&output, "prometheus").as_str().unwrap().to_owned();
    let open = reported(&output, "openmetrics")
        .as_str()
        .unwrap()
        .to_owned();

    let linted = promtool_check_metrics(&promtool, &text);
    assert!(
        linted.status.success() && linted.stdout.is_empty() && linted.stderr.is_empty(),
        "promtool check metrics must exit 0 with no output, got {}\n--- stdout ---\n{}\
         \n--- stderr ---\n{}\n--- exposition ---\n{text}",
        linted.status,
        String::from_utf8_lossy(&linted.stdout),
        String::from_utf8_lossy(&linted.stderr),
    );

    let families =
        parse(&text, Syntax::Prometheus).unwrap_or_else(|e| panic!("Prometheus text: {e}\n{text}"));
    let om_families = parse(&open, Syntax::OpenMetrics)
        .unwrap_or_else(|e| panic!("OpenMetrics text: {e}\n{open}"));

    // Every declared metric and the runtime's own are there, zero or not.
    for name in [
        "expo_orders_total",
        "expo_idle_total",
        "expo_in_flight",
        "expo_temperature_celsius",
        "expo_request_duration_seconds",
        "expo_payload_size_bytes",
        "expo_requests_total",
        "expo_sent_bytes_total",
        "expo_unused_total",
        "expo_queue_depth",
        "expo_db_query_duration_seconds",
        "expo_response_duration_seconds",
        "o11y_build_info",
        "o11y_spans_dropped_total",
        "o11y_metric_series_overflow_total",
    ] {
        assert!(
            families.iter().any(|f| f.name == name),
            "{name} missing from\n{text}"
        );
    }
    let value = |name: &str, labels: &[(&str, &str)]| {
        sample_value(&families, name, labels)
            .unwrap_or_else(|| panic!("no sample {name}{labels:?} in\n{text}"))
    };
    assert_eq!(value("expo_orders_total", &[]), 5.0);
    assert_eq!(value("expo_idle_total", &[]), 0.0);
    assert_eq!(value("expo_in_flight", &[]), 6.0);
    assert_eq!(value("expo_temperature_celsius", &[]), -12.5);
    assert_eq!(value("expo_request_duration_seconds_count", &[]), 4.0);
    assert_eq!(
        value("expo_request_duration_seconds_bucket", &[("le", "0.25")]),
        3.0
    );
    assert_eq!(
        value("expo_request_duration_seconds_bucket", &[("le", "10.0")]),
        3.0
    );
    assert_eq!(
        value("expo_request_duration_seconds_bucket", &[("le", "+Inf")]),
        4.0
    );
    assert_eq!(
        value("expo_payload_size_bytes_bucket", &[("le", "1024.0")]),
        1.0
    );
    assert_eq!(value("expo_payload_size_bytes_sum", &[]), 1e6 + 512.0);
    assert_eq!(
        value("expo_sent_bytes_total", &[("peer", "10.0.0.1:443")]),
        1048576.0
    );
    assert_eq!(
        value(
            "expo_response_duration_seconds_count",
            &[("route", "/orders/{id}")]
        ),
        1.0
    );
    // Escaped label values read back as they were recorded.
    for (i, tricky) in TRICKY.iter().enumerate() {
        assert_eq!(
            value("expo_requests_total", &[("route", tricky), ("code", "200")]),
            i as f64 + 1.0
        );
        assert_eq!(
            value("expo_queue_depth", &[("queue", tricky)]),
            i as f64 - 1.5
        );
        assert_eq!(
            value(
                "expo_db_query_duration_seconds_count",
                &[("table", "orders"), ("operation", tricky)]
            ),
            1.0
        );
    }
    assert!(
        text.contains(r#"expo_requests_total{route="/say \"hi\"",code="200"} 1"#)
            && text.contains(r#"{route="C:\\temp\\",code="200"} 2"#)
            && text.contains(r#"{route="line one\nline two",code="200"} 3"#),
        "label values escaped as the text format says:\n{text}"
    );
    let family = |families: &'_ [Family], name: &str| -> Family {
        families
            .iter()
            .find(|f| f.name == name)
            .cloned()
            .unwrap_or_else(|| panic!("no family {name}"))
    };
    assert_eq!(
        family(&families, "expo_in_flight").help.as_deref(),
        Some(r#"Requests in progress; help with "quotes" and a \ backslash"#)
    );
    assert_eq!(
        family(&families, "expo_queue_depth").help.as_deref(),
        Some("Jobs waiting, by queue.\nA second line of help.")
    );
    assert!(family(&families, "expo_unused_total").samples.is_empty());
    assert_eq!(
        sample_value(
            &families,
            "o11y_build_info",
            &[
                ("service_name", "promtool_accepts_every_kind_without_lint"),
                ("service_version", "unknown"),
                ("o11y_version", env!("CARGO_PKG_VERSION")),
            ]
        ),
        Some(1.0),
        "{text}"
    );

    // OpenMetrics: family names without `_total`, units, exemplars, and the
    // same series and values as the Prometheus text.
    assert_eq!(family(&om_families, "expo_orders").kind, "counter");
    assert_eq!(
        family(&om_families, "expo_sent_bytes").unit.as_deref(),
        Some("bytes")
    );
    assert_eq!(
        family(&om_families, "expo_temperature_celsius")
            .unit
            .as_deref(),
        Some("celsius")
    );
    let orders = &family(&om_families, "expo_orders").samples[0];
    let exemplar = orders
        .exemplar
        .as_ref()
        .unwrap_or_else(|| panic!("the counter's exemplar: {open}"));
    assert_eq!(exemplar.value, 2.0);
    assert!(
        exemplar
            .labels
            .iter()
            .any(|(k, v)| k == "trace_id" && v.len() == 32)
    );
    let payload = family(&om_families, "expo_payload_size_bytes");
    assert!(
        payload
            .samples
            .iter()
            .any(|s| s.labels.contains(&("le".into(), "1024.0".into()))
                && s.exemplar.as_ref().is_some_and(|e| e.value == 512.0)),
        "the bucket's exemplar: {open}"
    );
    let om_samples: usize = om_families.iter().map(|f| f.samples.len()).sum();
    let samples: usize = families.iter().map(|f| f.samples.len()).sum();
    assert_eq!(om_samples, samples, "both formats hold the same samples");
    for family in &families {
        for sample in &family.samples {
            let labels: Vec<(&str, &str)> = sample
                .labels
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let om = sample_value(&om_families, &sample.name, &labels);
            assert!(
                om.is_some_and(|v| v == sample.value || (v.is_nan() && sample.value.is_nan())),
                "{} {labels:?} is {} in Prometheus text but {om:?} in OpenMetrics",
                sample.name,
                sample.value
            );
        }
    }
}

// ---------------------------------------------------------------------------
// The cardinality guard.

static FLOOD: CounterVec<1> = CounterVec::new(
    MetricDesc::counter(
        "flood_requests_total",
        "Requests by user id: an unbounded label, on purpose",
    )
    .labels(&["user_id"]),
);
static CAPPED: CounterVec<2> = CounterVec::new(
    MetricDesc::counter(
        "capped_jobs_total",
        "Jobs by tenant and plan, capped at 10 series",
    )
    .labels(&["tenant", "plan"])
    .series_cap(10),
);
static CAPPED_LATENCY: HistogramVec<1> = HistogramVec::new(
    MetricDesc::histogram(
        "capped_latency_seconds",
        "Latency by tenant, capped at 2 series",
    )
    .unit("seconds")
    .buckets(&[0.1, 1.0])
    .labels(&["tenant"])
    .series_cap(2),
);
static SMALL_A: CounterVec<1> =
    CounterVec::new(MetricDesc::counter("small_a_total", "Under the global cap").labels(&["key"]));
static SMALL_B: CounterVec<1> =
    CounterVec::new(MetricDesc::counter("small_b_total", "Under the global cap").labels(&["key"]));

o11y::register_metric!(FLOOD);
o11y::register_metric!(CAPPED);
o11y::register_metric!(CAPPED_LATENCY);
o11y::register_metric!(SMALL_A);
o11y::register_metric!(SMALL_B);

const FLOOD_SIZE: u64 = 1_000_000;

#[test]
fn a_flood_of_label_values_stays_at_the_cap_in_bounded_memory() {
    assert_eq!(DEFAULT_SERIES_CAP, 2000);
    let output = o11y_child("a_flood_of_label_values_stays_at_the_cap_in_bounded_memory")
        .timeout(std::time::Duration::from_secs(300))
        .run(|| {
            let _o11y = o11y::init().expect("init");
            let before = vm_rss_kib();
            let mut value = String::with_capacity(16);
            for i in 0..FLOOD_SIZE {
                value.clear();
                std::fmt::Write::write_fmt(&mut value, format_args!("user-{i}")).unwrap();
                FLOOD.labels([&value]).inc();
            }
            let after = vm_rss_kib();
            report("series_count", json!(FLOOD.series_count()));
            report("rss_kib", json!([before, after]));
            report("prometheus", Value::from(render(Format::Prometheus)));
        });
    let cap = DEFAULT_SERIES_CAP as u64;
    assert_eq!(reported(&output, "series_count"), json!(cap));

    let text = reported(&output, "prometheus").as_str().unwrap().to_owned();
    let families = parse(&text, Syntax::Prometheus).unwrap_or_else(|e| panic!("{e}"));
    let flood = families
        .iter()
        .find(|f| f.name == "flood_requests_total")
        .expect("the flooded family");
    let (overflow, kept): (Vec<_>, Vec<_>) = flood
        .samples
        .iter()
        .partition(|s| s.labels[0].1 == OVERFLOW_LABEL_VALUE);
    assert_eq!(kept.len() as u64, cap, "series kept");
    assert!(kept.iter().all(|s| s.value == 1.0));
    assert_eq!(overflow.len(), 1, "one overflow series");
    assert_eq!(overflow[0].value, (FLOOD_SIZE - cap) as f64);
    assert_eq!(
        sample_value(
            &families,
            "o11y_metric_series_overflow_total",
            &[("metric", "flood_requests_total")]
        ),
        Some((FLOOD_SIZE - cap) as f64)
    );
    if let Some(promtool) = find_on_path("promtool") {
        let linted = promtool_check_metrics(&promtool, &text);
        assert!(
            linted.status.success() && linted.stdout.is_empty() && linted.stderr.is_empty(),
            "promtool on the flooded exposition: {}{}",
            String::from_utf8_lossy(&linted.stdout),
            String::from_utf8_lossy(&linted.stderr)
        );
    }

    let warnings: Vec<Value> = json_lines(&output)
        .into_iter()
        .filter(|line| line["event"].as_str().is_some_and(|e| e.contains("cap")))
        .collect();
    assert_eq!(warnings.len(), 1, "one warning per metric: {warnings:#?}");
    assert_eq!(warnings[0]["level"], "warn");
    assert_eq!(warnings[0]["metric"], "flood_requests_total");
    assert!(
        warnings[0]["event"]
            .as_str()
            .unwrap()
            .contains("flood_requests_total"),
        "{}",
        warnings[0]
    );

    let rss = reported(&output, "rss_kib");
    let (before, after) = (rss[0].as_u64().unwrap(), rss[1].as_u64().unwrap());
    let growth_kib = after.saturating_sub(before);
    common::stderr_line(&format!(
        "cardinality flood: {FLOOD_SIZE} distinct label values, {cap} series kept, \
         VmRSS {before} KiB -> {after} KiB, growth {growth_kib} KiB ({:.2} MiB)",
        growth_kib as f64 / 1024.0
    ));
    assert!(
        growth_kib < 32 * 1024,
        "RSS grew by {growth_kib} KiB for {cap} series"
    );
}

#[test]
fn a_per_metric_cap_sends_the_rest_to_one_overflow_series() {
    let output = o11y_child("a_per_metric_cap_sends_the_rest_to_one_overflow_series").run(|| {
        let _o11y = o11y::init().expect("init");
        let first = CAPPED.labels(["tenant-0", "free"]);
        for i in 0..25 {
            CAPPED.labels([&format!("tenant-{i}"), "free"]).inc();
        }
        // A label set kept before the cap still has its own series.
        first.inc();
        CAPPED.labels(["tenant-3", "free"]).inc();
        report("series_count", json!(CAPPED.series_count()));
        for (i, value) in [0.05, 0.5, 5.0, 0.05].into_iter().enumerate() {
            CAPPED_LATENCY
                .labels([&format!("tenant-{i}")])
                .observe(value);
        }
        report("latency_series_count", json!(CAPPED_LATENCY.series_count()));
        report("prometheus", Value::from(render(Format::Prometheus)));
        report("openmetrics", Value::from(render(Format::OpenMetrics)));
    });
    assert_eq!(reported(&output, "series_count"), json!(10));
    assert_eq!(reported(&output, "latency_series_count"), json!(2));
    let text = reported(&output, "prometheus").as_str().unwrap().to_owned();
    let families = parse(&text, Syntax::Prometheus).unwrap_or_else(|e| panic!("{e}"));
    parse(
        reported(&output, "openmetrics").as_str().unwrap(),
        Syntax::OpenMetrics,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let value = |name: &str, labels: &[(&str, &str)]| sample_value(&families, name, labels);
    let overflow = [
        ("tenant", OVERFLOW_LABEL_VALUE),
        ("plan", OVERFLOW_LABEL_VALUE),
    ];
    assert_eq!(value("capped_jobs_total", &overflow), Some(15.0), "{text}");
    assert_eq!(
        value(
            "capped_jobs_total",
            &[("tenant", "tenant-0"), ("plan", "free")]
        ),
        Some(2.0)
    );
    assert_eq!(
        value(
            "capped_jobs_total",
            &[("tenant", "tenant-3"), ("plan", "free")]
        ),
        Some(2.0)
    );
    assert_eq!(
        value(
            "capped_jobs_total",
            &[("tenant", "tenant-10"), ("plan", "free")]
        ),
        None
    );
    assert_eq!(
        value(
            "o11y_metric_series_overflow_total",
            &[("metric", "capped_jobs_total")]
        ),
        Some(15.0)
    );
    // The histogram's overflow series is a whole histogram.
    let tenant = [("tenant", OVERFLOW_LABEL_VALUE)];
    assert_eq!(value("capped_latency_seconds_count", &tenant), Some(2.0));
    assert_eq!(
        value("capped_latency_seconds_bucket", &[tenant[0], ("le", "0.1")]),
        Some(1.0)
    );
    assert_eq!(value("capped_latency_seconds_sum", &tenant), Some(5.05));
    assert_eq!(
        value(
            "o11y_metric_series_overflow_total",
            &[("metric", "capped_latency_seconds")]
        ),
        Some(2.0)
    );
    let warnings = json_lines(&output)
        .into_iter()
        .filter(|line| line["level"] == "warn")
        .map(|line| line["metric"].as_str().unwrap_or_default().to_owned())
        .collect::<Vec<_>>();
    assert_eq!(
        warnings,
        ["capped_jobs_total", "capped_latency_seconds"],
        "one warning per metric"
    );
}

/// `metrics.series_cap` applies to the runtime's own labelled metrics too,
/// `o11y_metric_series_overflow_total` included: with a cap of 1, the second
/// metric to overflow must be counted (its label set bounded by the number
/// of metrics), not recurse into the overflow counter's own overflow.
#[test]
fn a_tiny_global_cap_still_counts_every_overflowing_metric() {
    let output = o11y_child("a_tiny_global_cap_still_counts_every_overflowing_metric")
        .env("O11Y_METRICS_SERIES_CAP", "1")
        .run(|| {
            let _o11y = o11y::init().expect("init");
            for metric in [&SMALL_A, &SMALL_B] {
                metric.labels(["x"]).inc();
                metric.labels(["y"]).inc();
                metric.labels(["z"]).inc();
            }
            report("prometheus", Value::from(render(Format::Prometheus)));
        });
    let text = reported(&output, "prometheus").as_str().unwrap().to_owned();
    let families = parse(&text, Syntax::Prometheus).unwrap_or_else(|e| panic!("{e}"));
    for metric in ["small_a_total", "small_b_total"] {
        assert_eq!(
            sample_value(&families, metric, &[("key", "x")]),
            Some(1.0),
            "{text}"
        );
        assert_eq!(
            sample_value(&families, metric, &[("key", OVERFLOW_LABEL_VALUE)]),
            Some(2.0),
            "{text}"
        );
        assert_eq!(
            sample_value(
                &families,
                "o11y_metric_series_overflow_total",
                &[("metric", metric)]
            ),
            Some(2.0),
            "{text}"
        );
    }
}

// ---------------------------------------------------------------------------
// Helpers.

/// `promtool` on the PATH; `None` (after one stderr line) when it is
/// missing, unless peers are required (`O11Y_REQUIRE_PEERS=1`).
fn promtool() -> Option<PathBuf> {
    let found = find_on_path("promtool");
    if found.is_none() {
        if common::peers_required() {
            panic!(
                "peer prometheus (promtool) is required (O11Y_REQUIRE_PEERS=1) but not \
                 installed: run scripts/peers/prometheus.sh install"
            );
        }
        common::stderr_line(
            "skipping: peer prometheus (promtool) not installed \
             (run scripts/peers/prometheus.sh install)",
        );
    }
    found
}

fn find_on_path(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
}

/// `promtool check metrics` with `text` on its standard input.
fn promtool_check_metrics(promtool: &PathBuf, text: &str) -> Output {
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("running {}: {e}", promtool.display()));
    let mut stdin = child.stdin.take().expect("stdin");
    let input = text.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().expect("promtool output");
    writer.join().unwrap().expect("writing to promtool");
    output
}

/// This process's resident set size, from `/proc/self/status`.
fn vm_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().strip_suffix("kB"))
        .and_then(|kib| kib.trim().parse().ok())
        .expect("VmRSS in /proc/self/status")
}

/// A strict reader of the two exposition formats, checking what a scraper
/// relies on: every sample belongs to the family whose `# TYPE` and `# HELP`
/// precede it (a family's lines contiguous, declared once), names and label
/// names valid, only the escapes the formats define, values that parse,
/// no duplicate series, histograms whose buckets are cumulative and end in
/// `+Inf` equal to `_count`, counters not negative, and for OpenMetrics:
/// `# UNIT` a suffix of the family name, exemplars only on counter totals
/// and histogram buckets (within the bucket), and `# EOF` as the last line.
mod exposition {
    #[derive(Debug, Clone, Copy, PartialEq)]
    pub enum Syntax {
        Prometheus,
        OpenMetrics,
    }

    #[derive(Debug, Clone)]
    pub struct Family {
        pub name: String,
        pub kind: String,
        pub help: Option<String>,
        pub unit: Option<String>,
        pub samples: Vec<Sample>,
    }

    #[derive(Debug, Clone)]
    pub struct Sample {
        pub name: String,
        pub labels: Vec<(String, String)>,
        pub value: f64,
        pub exemplar: Option<Exemplar>,
    }

    #[derive(Debug, Clone)]
    pub struct Exemplar {
        pub labels: Vec<(String, String)>,
        pub value: f64,
    }

    /// The value of the sample `name` whose labels are exactly `labels` (any order).
    pub fn sample_value(families: &[Family], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        families
            .iter()
            .flat_map(|f| &f.samples)
            .find(|s| s.name == name && crate::common::exposition::labels_are(&s.labels, labels))
            .map(|s| s.value)
    }

    pub fn parse(text: &str, syntax: Syntax) -> Result<Vec<Family>, String> {
        if !text.is_empty() && !text.ends_with('\n') {
            return Err("the last line is not terminated by a newline".into());
        }
        let mut families: Vec<Family> = Vec::new();
        let mut eof = false;
        for (n, line) in text.lines().enumerate() {
            let at = |problem: &str| format!("line {}: {problem}: {line:?}", n + 1);
            if eof {
                return Err(at("a line after # EOF"));
            }
            if let Some(comment) = line.strip_prefix('#') {
                let Some(comment) = comment.strip_prefix(' ') else {
                    if syntax == Syntax::OpenMetrics {
                        return Err(at("a comment not starting with `# `"));
                    }
                    continue;
                };
                let (keyword, rest) = comment.split_once(' ').unwrap_or((comment, ""));
                match (keyword, syntax) {
                    ("EOF", Syntax::OpenMetrics) if rest.is_empty() => eof = true,
                    ("HELP" | "TYPE", _) | ("UNIT", Syntax::OpenMetrics) => {
                        let (name, rest) = rest.split_once(' ').ok_or_else(|| at("no value"))?;
                        if !is_metric_name(name) {
                            return Err(at("an invalid metric name"));
                        }
                        metadata(&mut families, keyword, name, rest, syntax).map_err(|e| at(&e))?;
                    }
                    (_, Syntax::Prometheus) => {} // a free comment
                    (_, Syntax::OpenMetrics) => return Err(at("an unknown comment")),
                }
                continue;
            }
            if line.is_empty() {
                if syntax == Syntax::OpenMetrics {
                    return Err(at("an empty line"));
                }
                continue;
            }
            let sample = sample(line, syntax).map_err(|e| at(&e))?;
            let family = families
                .last_mut()
                .ok_or_else(|| at("a sample before any # TYPE"))?;
            if !suffixes(&family.kind, syntax)
                .iter()
                .any(|suffix| sample.name == format!("{}{suffix}", family.name))
            {
                return Err(at(&format!(
                    "a sample outside its family: the last # TYPE is {} {}",
                    family.name, family.kind
                )));
            }
            if let Some(exemplar) = &sample.exemplar {
                let allowed = match family.kind.as_str() {
                    "counter" => sample.name.ends_with("_total"),
                    "histogram" => sample.name.ends_with("_bucket"),
                    _ => false,
                };
                if !allowed {
                    return Err(at("an exemplar on a sample that cannot have one"));
                }
                let chars: usize = exemplar
                    .labels
                    .iter()
                    .map(|(k, v)| k.chars().count() + v.chars().count())
                    .sum();
                if chars > 128 {
                    return Err(at("an exemplar label set longer than 128 characters"));
                }
            }
            family.samples.push(sample);
        }
        if syntax == Syntax::OpenMetrics && !eof {
            return Err("no # EOF at the end".into());
        }
        for family in &families {
            check_family(family, syntax).map_err(|e| format!("family {}: {e}", family.name))?;
        }
        Ok(families)
    }

    fn metadata(
        families: &mut Vec<Family>,
        keyword: &str,
        name: &str,
        rest: &str,
        syntax: Syntax,
    ) -> Result<(), String> {
        if families.last().is_none_or(|f| f.name != name) {
            if families.iter().any(|f| f.name == name) {
                return Err(format!(
                    "{name} was declared earlier: its lines must be together"
                ));
            }
            families.push(Family {
                name: name.into(),
                kind: String::new(),
                help: None,
                unit: None,
                samples: Vec::new(),
            });
        }
        let family = families.last_mut().unwrap();
        if !family.samples.is_empty() {
            return Err(format!("# {keyword} after the family's samples"));
        }
        match keyword {
            "TYPE" => {
                let kinds: &[&str] = match syntax {
                    Syntax::Prometheus => &["counter", "gauge", "histogram", "summary", "untyped"],
                    Syntax::OpenMetrics => &[
                        "counter",
                        "gauge",
                        "histogram",
                        "gaugehistogram",
                        "stateset",
                        "info",
                        "summary",
                        "unknown",
                    ],
                };
                if !family.kind.is_empty() {
                    return Err("a second # TYPE".into());
                }
                if !kinds.contains(&rest) {
                    return Err(format!("unknown type {rest:?}"));
                }
                family.kind = rest.into();
            }
            "HELP" => {
                if family.help.is_some() {
                    return Err("a second # HELP".into());
                }
                family.help = Some(unescape(rest, syntax == Syntax::OpenMetrics)?);
            }
            _ => {
                if family.unit.is_some() {
                    return Err("a second # UNIT".into());
                }
                if !name.ends_with(&format!("_{rest}")) {
                    return Err(format!(
                        "the family name does not end in its unit `_{rest}`"
                    ));
                }
                family.unit = Some(rest.into());
            }
        }
        Ok(())
    }

    fn suffixes(kind: &str, syntax: Syntax) -> &'static [&'static str] {
        match (kind, syntax) {
            ("counter", Syntax::Prometheus) => &[""],
            ("counter", Syntax::OpenMetrics) => &["_total", "_created"],
            ("histogram", Syntax::Prometheus) => &["_bucket", "_sum", "_count"],
            ("histogram", Syntax::OpenMetrics) => &["_bucket", "_sum", "_count", "_created"],
            ("summary", _) => &["", "_sum", "_count"],
            _ => &[""],
        }
    }

    fn check_family(family: &Family, syntax: Syntax) -> Result<(), String> {
        if family.kind.is_empty() {
            return Err("no # TYPE".into());
        }
        if family.help.is_none() {
            return Err("no # HELP".into());
        }
        if syntax == Syntax::Prometheus
            && family.kind == "counter"
            && !family.name.ends_with("_total")
        {
            return Err("a counter not ending in _total".into());
        }
        let mut seen: Vec<(String, Vec<(String, String)>)> = Vec::new();
        for sample in &family.samples {
            let mut labels = sample.labels.clone();
            labels.sort();
            let key = (sample.name.clone(), labels);
            if seen.contains(&key) {
                return Err(format!("the series {:?} appears twice", key));
            }
            seen.push(key);
            if family.kind == "counter" && (sample.value.is_nan() || sample.value < 0.0) {
                return Err(format!(
                    "counter sample {} is {}",
                    sample.name, sample.value
                ));
            }
        }
        if family.kind == "histogram" {
            check_histogram(family)?;
        }
        Ok(())
    }

    /// Per label set (without `le`): buckets in increasing `le` order, the
    /// counts cumulative, the last `+Inf` and equal to `_count`; `_sum` present.
    fn check_histogram(family: &Family) -> Result<(), String> {
        let mut series: Vec<(Labels, Vec<&Sample>)> = Vec::new();
        for sample in &family.samples {
            let mut labels: Vec<(String, String)> = sample
                .labels
                .iter()
                .filter(|(k, _)| k != "le")
                .cloned()
                .collect();
            labels.sort();
            match series.iter_mut().find(|(l, _)| *l == labels) {
                Some((_, samples)) => samples.push(sample),
                None => series.push((labels, vec![sample])),
            }
        }
        for (labels, samples) in series {
            let mut previous: Option<(f64, f64)> = None;
            let (mut count, mut sum) = (None, None);
            for sample in samples {
                let le = sample
                    .labels
                    .iter()
                    .find(|(k, _)| k == "le")
                    .map(|(_, v)| v);
                match sample.name.strip_prefix(family.name.as_str()) {
                    Some("_bucket") => {
                        let le = le.ok_or_else(|| format!("a bucket of {labels:?} without le"))?;
                        let bound = float(le).map_err(|e| format!("le {le:?}: {e}"))?;
                        if count.is_some() || sum.is_some() {
                            return Err(format!("a bucket of {labels:?} after _sum or _count"));
                        }
                        if let Some((bound_before, cumulative)) = previous {
                            if bound <= bound_before || sample.value < cumulative {
                                return Err(format!(
                                    "the buckets of {labels:?} are not increasing and cumulative"
                                ));
                            }
                            if let Some(e) = &sample.exemplar
                                && !(e.value > bound_before && e.value <= bound)
                            {
                                return Err(format!("exemplar {} outside bucket le={le}", e.value));
                            }
                        }
                        previous = Some((bound, sample.value));
                    }
                    Some("_count") => count = Some(sample.value),
                    Some("_sum") => sum = Some(sample.value),
                    _ => {}
                }
                if le.is_some() && !sample.name.ends_with("_bucket") {
                    return Err(format!("{} has an le label", sample.name));
                }
            }
            match previous {
                Some((bound, cumulative)) if bound == f64::INFINITY => {
                    if count != Some(cumulative) {
                        return Err(format!(
                            "_count of {labels:?} is {count:?}, the +Inf bucket {cumulative}"
                        ));
                    }
                }
                _ => return Err(format!("the buckets of {labels:?} do not end in +Inf")),
            }
            if sum.is_none() {
                return Err(format!("no _sum for {labels:?}"));
            }
        }
        Ok(())
    }

    fn sample(line: &str, syntax: Syntax) -> Result<Sample, String> {
        let name_end = line.find(['{', ' ']).ok_or("a sample without a value")?;
        let name = &line[..name_end];
        if !is_metric_name(name) {
            return Err(format!("invalid metric name {name:?}"));
        }
        let mut rest = &line[name_end..];
        let mut labels = Vec::new();
        if let Some(after) = rest.strip_prefix('{') {
            (labels, rest) = label_set(after, syntax)?;
        }
        let rest = rest.strip_prefix(' ').ok_or("no space before the value")?;
        let (main, exemplar) = match rest.split_once(" # ") {
            Some(_) if syntax == Syntax::Prometheus => {
                return Err("an exemplar in Prometheus text".into());
            }
            Some((main, exemplar)) => (main, Some(exemplar)),
            None => (rest, None),
        };
        let mut tokens = main.split(' ');
        let value = float(tokens.next().unwrap_or_default())?;
        if let Some(timestamp) = tokens.next() {
            float(timestamp)?;
        }
        if tokens.next().is_some() {
            return Err("text after the timestamp".into());
        }
        let exemplar = match exemplar {
            None => None,
            Some(exemplar) => {
                let after = exemplar
                    .strip_prefix('{')
                    .ok_or("an exemplar without labels")?;
                let (labels, rest) = label_set(after, syntax)?;
                let rest = rest
                    .strip_prefix(' ')
                    .ok_or("an exemplar without a value")?;
                let mut tokens = rest.split(' ');
                let value = float(tokens.next().unwrap_or_default())?;
                if let Some(timestamp) = tokens.next() {
                    float(timestamp)?;
                }
                if tokens.next().is_some() {
                    return Err("text after the exemplar".into());
                }
                Some(Exemplar { labels, value })
            }
        };
        Ok(Sample {
            name: name.into(),
            labels,
            value,
            exemplar,
        })
    }

    type Labels = Vec<(String, String)>;

    /// `name="value",...}` (after the `{`): the labels and what follows the `}`.
    fn label_set(mut s: &str, syntax: Syntax) -> Result<(Labels, &str), String> {
        let mut labels: Labels = Vec::new();
        loop {
            if let Some(rest) = s.strip_prefix('}') {
                return Ok((labels, rest));
            }
            let (name, rest) = s.split_once("=\"").ok_or("a label without =\"")?;
            if !is_label_name(name) {
                return Err(format!("invalid label name {name:?}"));
            }
            if labels.iter().any(|(n, _)| n == name) {
                return Err(format!("label {name} twice"));
            }
            let mut value = String::new();
            let mut chars = rest.char_indices();
            let end = loop {
                match chars.next() {
                    None => return Err("an unterminated label value".into()),
                    Some((i, '"')) => break i,
                    Some((_, '\\')) => match chars.next() {
                        Some((_, '\\')) => value.push('\\'),
                        Some((_, '"')) => value.push('"'),
                        Some((_, 'n')) => value.push('\n'),
                        other => return Err(format!("an invalid escape \\{other:?}")),
                    },
                    Some((_, c)) => value.push(c),
                }
            };
            labels.push((name.into(), value));
            s = &rest[end + 1..];
            if let Some(after) = s.strip_prefix(',') {
                s = after;
                if syntax == Syntax::OpenMetrics && s.starts_with('}') {
                    return Err("a trailing comma in a label set".into());
                }
            } else if !s.starts_with('}') {
                return Err("a label not followed by , or }".into());
            }
        }
    }

    fn unescape(text: &str, quotes: bool) -> Result<String, String> {
        let mut out = String::new();
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('\\') => out.push('\\'),
                Some('n') => out.push('\n'),
                Some('"') if quotes => out.push('"'),
                other => return Err(format!("an invalid escape \\{other:?} in {text:?}")),
            }
        }
        Ok(out)
    }

    fn float(token: &str) -> Result<f64, String> {
        match token {
            "+Inf" => Ok(f64::INFINITY),
            "-Inf" => Ok(f64::NEG_INFINITY),
            "NaN" => Ok(f64::NAN),
            _ if token.chars().any(|c| c.is_ascii_digit())
                && token
                    .chars()
                    .all(|c| c.is_ascii_digit() || ".-+eE".contains(c)) =>
            {
                token.parse().map_err(|e| format!("value {token:?}: {e}"))
            }
            _ => Err(format!("not a number: {token:?}")),
        }
    }

    fn is_metric_name(name: &str) -> bool {
        let mut chars = name.chars();
        matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    }

    fn is_label_name(name: &str) -> bool {
        let mut chars = name.chars();
        matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    }

    #[test]
    fn the_reader_refuses_what_a_scraper_would() {
        let ok = "# HELP a_total A\n# TYPE a_total counter\na_total{x=\"1\"} 2\n";
        parse(ok, Syntax::Prometheus).unwrap();
        for (bad, why) in [
            ("a_total 1\n", "before any # TYPE"),
            ("# TYPE a_total counter\na_total 1\n", "no # HELP"),
            ("# HELP a A\n# TYPE a gauge\nb 1\n", "outside its family"),
            (
                "# HELP a A\n# TYPE a gauge\na{x=\"\\t\"} 1\n",
                "invalid escape",
            ),
            ("# HELP a A\n# TYPE a gauge\na 1\na 2\n", "twice"),
            (
                "# HELP a A\n# TYPE a gauge\n# HELP b B\n# TYPE b gauge\n# HELP a A\n",
                "together",
            ),
            (
                "# HELP h H\n# TYPE h histogram\nh_bucket{le=\"1.0\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
                "cumulative",
            ),
            (
                "# HELP h H\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 1\n",
                "_count",
            ),
        ] {
            let error = parse(bad, Syntax::Prometheus).expect_err(bad);
            assert!(error.contains(why), "{bad:?}: {error}");
        }
        let open = "# TYPE a counter\n# HELP a A\na_total 1 # {trace_id=\"x\"} 1.0\n# EOF\n";
        parse(open, Syntax::OpenMetrics).unwrap();
        assert!(parse(&open.replace("# EOF\n", ""), Syntax::OpenMetrics).is_err());
        assert!(parse(&format!("{open}a_total 1\n"), Syntax::OpenMetrics).is_err());
        assert!(parse(&open.replace("a_total", "a"), Syntax::OpenMetrics).is_err());
    }
}
