//! Exposition: every registered metric rendered as Prometheus text 0.0.4 or
//! OpenMetrics 1.0 text (with exemplars and `# EOF`), and the content
//! negotiation between the two.

use std::fmt::Write as _;

use super::cell::HistogramSnapshot;
use super::desc::{MetricDesc, MetricKind};
use super::exemplar::Exemplar;
use super::registry::METRICS;
use super::types::{Metric, SeriesValue};

/// An exposition format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Prometheus text format 0.0.4: what `promtool check metrics` reads. No exemplars.
    Prometheus,
    /// OpenMetrics 1.0 text: exemplars, `# UNIT`, `# EOF`.
    OpenMetrics,
}

impl Format {
    /// The `Content-Type` of a response in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Prometheus => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }

    /// The format a scraper asked for in its `Accept` header: OpenMetrics
    /// when it lists `application/openmetrics-text` (as Prometheus does),
    /// Prometheus text otherwise.
    pub fn from_accept(accept: Option<&str>) -> Format {
        let wants_openmetrics = accept.is_some_and(|accept| {
            accept.split(',').any(|part| {
                let mut params = part.split(';').map(str::trim);
                let media = params.next().unwrap_or_default();
                // RFC 9110: a weight of 0 (`q=0`, `q=0.0`, `Q=0.000`) refuses it.
                let refused = params.any(|param| {
                    param.split_once('=').is_some_and(|(name, weight)| {
                        name.trim().eq_ignore_ascii_case("q")
                            && weight.trim().parse::<f64>().is_ok_and(|q| q == 0.0)
                    })
                });
                media.eq_ignore_ascii_case("application/openmetrics-text") && !refused
            })
        });
        if wants_openmetrics {
            Format::OpenMetrics
        } else {
            Format::Prometheus
        }
    }
}

/// Renders every registered metric, sorted by name.
///
/// ```
/// use o11y_runtime::metrics::{render, Format};
/// let text = render(Format::OpenMetrics);
/// assert!(text.contains("# TYPE o11y_build_info gauge"));
/// assert!(text.ends_with("# EOF\n"));
/// ```
pub fn render(format: Format) -> String {
    super::own::create_span_drop_series();
    let mut metrics: Vec<&dyn Metric> = METRICS.iter().map(|r| r.metric).collect();
    metrics.sort_by_key(|m| m.desc().name);
    let mut out = String::with_capacity(4096);
    render_into(&metrics, format, &mut out);
    out
}

/// Renders `metrics` in order into `out`.
pub fn render_into(metrics: &[&dyn Metric], format: Format, out: &mut String) {
    for metric in metrics {
        let desc = metric.desc();
        header(desc, format, out);
        metric.visit(&mut |labels, value| series(desc, labels, value, format, out));
    }
    if format == Format::OpenMetrics {
        out.push_str("# EOF\n");
    }
}

fn header(desc: &MetricDesc, format: Format, out: &mut String) {
    match format {
        Format::Prometheus => {
            let _ = write!(out, "# HELP {} ", desc.name);
            escape_help(desc.help, false, out);
            let _ = writeln!(out, "\n# TYPE {} {}", desc.name, desc.kind);
        }
        Format::OpenMetrics => {
            let family = desc.family_name();
            let _ = writeln!(out, "# TYPE {family} {}", desc.kind);
            if let Some(unit) = desc.unit {
                let _ = writeln!(out, "# UNIT {family} {unit}");
            }
            let _ = write!(out, "# HELP {family} ");
            escape_help(desc.help, true, out);
            out.push('\n');
        }
    }
}

fn series(
    desc: &MetricDesc,
    labels: &[&str],
    value: SeriesValue<'_>,
    format: Format,
    out: &mut String,
) {
    match value {
        SeriesValue::Counter(count, exemplar) => {
            sample_name(desc, "", format, out);
            label_set(desc.labels, labels, None, out);
            space_integer(count, out);
            if format == Format::OpenMetrics {
                write_exemplar(exemplar.as_ref(), out);
            }
            out.push('\n');
        }
        SeriesValue::Gauge(value) => {
            sample_name(desc, "", format, out);
            label_set(desc.labels, labels, None, out);
            out.push(' ');
            float(value, out);
            out.push('\n');
        }
        SeriesValue::Histogram(snapshot) => histogram(desc, labels, snapshot, format, out),
    }
}

fn histogram(
    desc: &MetricDesc,
    labels: &[&str],
    snapshot: &HistogramSnapshot,
    format: Format,
    out: &mut String,
) {
    let mut cumulative = 0;
    let mut le = String::with_capacity(16);
    for (i, count) in snapshot.counts.iter().enumerate() {
        cumulative += count;
        le.clear();
        match snapshot.bounds.get(i) {
            Some(bound) => float(*bound, &mut le),
            None => le.push_str("+Inf"),
        }
        sample_name(desc, "_bucket", format, out);
        label_set(desc.labels, labels, Some(&le), out);
        space_integer(cumulative, out);
        if format == Format::OpenMetrics {
            write_exemplar(snapshot.exemplars.get(i).and_then(Option::as_ref), out);
        }
        out.push('\n');
    }
    // OpenMetrics: with a negative bucket bound a histogram MUST NOT have a
    // sum, and a count goes only with a sum.
    if format == Format::OpenMetrics && snapshot.bounds.iter().any(|bound| *bound < 0.0) {
        return;
    }
    sample_name(desc, "_sum", format, out);
    label_set(desc.labels, labels, None, out);
    out.push(' ');
    float(snapshot.sum, out);
    out.push('\n');
    sample_name(desc, "_count", format, out);
    label_set(desc.labels, labels, None, out);
    space_integer(cumulative, out);
    out.push('\n');
}

fn sample_name(desc: &MetricDesc, suffix: &str, format: Format, out: &mut String) {
    match (desc.kind, format) {
        // OpenMetrics names the family without `_total` and the sample with it.
        (MetricKind::Counter, Format::OpenMetrics) => {
            out.push_str(desc.family_name());
            out.push_str("_total");
        }
        _ => {
            out.push_str(desc.name);
            out.push_str(suffix);
        }
    }
}

fn label_set(names: &[&str], values: &[&str], le: Option<&str>, out: &mut String) {
    if names.is_empty() && le.is_none() {
        return;
    }
    out.push('{');
    let mut first = true;
    for (name, value) in names
        .iter()
        .zip(values)
        .map(|(n, v)| (*n, *v))
        .chain(le.map(|le| ("le", le)))
    {
        if !first {
            out.push(',');
        }
        first = false;
        out.push_str(name);
        out.push_str("=\"");
        escape_label_value(value, out);
        out.push('"');
    }
    out.push('}');
}

fn write_exemplar(exemplar: Option<&Exemplar>, out: &mut String) {
    let Some(exemplar) = exemplar else { return };
    let _ = write!(
        out,
        " # {{trace_id=\"{}\",span_id=\"{}\"}} ",
        exemplar.trace_id, exemplar.span_id
    );
    float(exemplar.value, out);
    if let Ok(since_epoch) = exemplar.timestamp.duration_since(std::time::UNIX_EPOCH) {
        let _ = write!(
            out,
            " {}.{:03}",
            since_epoch.as_secs(),
            since_epoch.subsec_millis()
        );
    }
}

/// Floats in the canonical form of OpenMetrics numbers (required for `le`
/// labels, so that one bucket bound reads the same from every client):
/// `+Inf`, `-Inf`, `NaN`, and otherwise what Go's `%g` writes with the
/// fewest digits that read back exactly (the official clients' format):
/// exponent notation below 1e-4 and from 1e6 on (`1e-05`, `2.5e+06`),
/// plain decimals between, with a `.0` when there is no point or exponent
/// (`1.0`, `100000.0`).
fn float(value: f64, out: &mut String) {
    if value.is_nan() {
        out.push_str("NaN");
        return;
    }
    if value.is_infinite() {
        out.push_str(if value > 0.0 { "+Inf" } else { "-Inf" });
        return;
    }
    // Rust's `{:e}` has the shortest round-trip digits: `2.5e6`, `1e-5`.
    let start = out.len();
    let _ = write!(out, "{value:e}");
    let (mantissa_end, exponent): (usize, i32) = match out[start..].split_once('e') {
        Some((mantissa, exponent)) => (start + mantissa.len(), exponent.parse().unwrap_or(0)),
        None => (out.len(), 0),
    };
    if value != 0.0 && !(-4..6).contains(&exponent) {
        out.truncate(mantissa_end);
        let sign = if exponent < 0 { '-' } else { '+' };
        let _ = write!(out, "e{sign}{:02}", exponent.unsigned_abs());
    } else {
        out.truncate(start);
        let _ = write!(out, "{value}");
        if !out[start..].contains('.') {
            out.push_str(".0");
        }
    }
}

fn escape_label_value(value: &str, out: &mut String) {
    escape(value, true, out);
}

fn escape_help(help: &str, quotes: bool, out: &mut String) {
    escape(help, quotes, out);
}

/// Writes `text` with `\`, newline (and `"` when `quotes`) escaped, copying
/// the runs between them whole: usually there is nothing to escape, and
/// the text is one copy.
fn escape(text: &str, quotes: bool, out: &mut String) {
    let mut run = 0;
    for (i, byte) in text.bytes().enumerate() {
        let escaped = match byte {
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'"' if quotes => "\\\"",
            _ => continue,
        };
        // An ASCII byte is a char boundary.
        out.push_str(&text[run..i]);
        out.push_str(escaped);
        run = i + 1;
    }
    out.push_str(&text[run..]);
}

/// ` <n>`, formatted without `fmt` (most of a counter line's cost otherwise).
fn space_integer(n: u64, out: &mut String) {
    out.push(' ');
    out.push_str(itoa::Buffer::new().format(n));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{Counter, CounterVec, Gauge, Histogram, HistogramVec};

    static REQUESTS: CounterVec<2> = CounterVec::new(
        MetricDesc::counter("test_requests_total", "Requests \"served\"\nby route")
            .labels(&["route", "code"]),
    );
    static UP: Gauge = Gauge::new(MetricDesc::gauge("test_up", "Up"));
    static IDLE: Counter =
        Counter::new(MetricDesc::counter("test_idle_total", "Never incremented"));
    static LATENCY: HistogramVec<1> = HistogramVec::new(
        MetricDesc::histogram("test_latency_seconds", "Latency")
            .unit("seconds")
            .buckets(&[0.1, 1.0])
            .labels(&["route"]),
    );

    fn render_test_metrics(format: Format) -> String {
        let mut out = String::new();
        render_into(&[&REQUESTS, &UP, &IDLE, &LATENCY], format, &mut out);
        out
    }

    #[test]
    fn both_formats_render_every_kind() {
        REQUESTS.labels(["/a\"b", "200"]).inc_by(3);
        UP.set(1.0);
        let latency = LATENCY.labels(["/a"]);
        latency.observe(0.05);
        latency.observe(0.5);
        latency.observe(5.0);

        let text = render_test_metrics(Format::Prometheus);
        assert!(
            text.contains("# HELP test_requests_total Requests \"served\"\\nby route\n"),
            "{text}"
        );
        assert!(text.contains("# TYPE test_requests_total counter\n"));
        assert!(
            text.contains("test_requests_total{route=\"/a\\\"b\",code=\"200\"} 3\n"),
            "{text}"
        );
        assert!(text.contains("test_up 1.0\n"));
        assert!(
            text.contains("test_idle_total 0\n"),
            "an unused counter shows 0: {text}"
        );
        assert!(
            text.contains("test_latency_seconds_bucket{route=\"/a\",le=\"0.1\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("test_latency_seconds_bucket{route=\"/a\",le=\"1.0\"} 2\n"),
            "{text}"
        );
        assert!(text.contains("test_latency_seconds_bucket{route=\"/a\",le=\"+Inf\"} 3\n"));
        assert!(
            text.contains("test_latency_seconds_sum{route=\"/a\"} 5.55\n"),
            "{text}"
        );
        assert!(text.contains("test_latency_seconds_count{route=\"/a\"} 3\n"));
        assert!(!text.contains("# EOF"));

        let open = render_test_metrics(Format::OpenMetrics);
        assert!(open.contains("# TYPE test_requests counter\n"), "{open}");
        assert!(
            open.contains("# HELP test_requests Requests \\\"served\\\"\\nby route\n"),
            "{open}"
        );
        assert!(open.contains("test_requests_total{route=\"/a\\\"b\",code=\"200\"} 3\n"));
        assert!(open.contains("# UNIT test_latency_seconds seconds\n"));
        assert!(open.ends_with("# EOF\n"));
    }

    #[test]
    fn exemplars_appear_in_openmetrics_only() {
        let trace_id = opentelemetry::trace::TraceId::from(0x0af7651916cd43dd8448eb211c80319c_u128);
        let span_id = opentelemetry::trace::SpanId::from(0xb7ad6b7169203331_u64);
        LATENCY
            .labels(["/exemplar"])
            .observe_with_span(0.07, trace_id, span_id);
        let open = render_test_metrics(Format::OpenMetrics);
        let line = open
            .lines()
            .find(|l| l.starts_with("test_latency_seconds_bucket{route=\"/exemplar\",le=\"0.1\"}"))
            .unwrap();
        assert!(
            line.starts_with(
                "test_latency_seconds_bucket{route=\"/exemplar\",le=\"0.1\"} 1 # {trace_id=\"0af7651916cd43dd8448eb211c80319c\",span_id=\"b7ad6b7169203331\"} 0.07 "
            ),
            "{line}"
        );
        assert!(!render_test_metrics(Format::Prometheus).contains("trace_id"));
    }

    #[test]
    fn accept_header_negotiation() {
        let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(Format::from_accept(Some(prometheus)), Format::OpenMetrics);
        assert_eq!(Format::from_accept(Some("text/plain")), Format::Prometheus);
        assert_eq!(Format::from_accept(None), Format::Prometheus);
        for refused in [
            "application/openmetrics-text; q=0",
            "application/openmetrics-text;q=0.0",
            "application/openmetrics-text;Q=0.000,text/plain;version=0.0.4",
        ] {
            assert_eq!(
                Format::from_accept(Some(refused)),
                Format::Prometheus,
                "{refused}"
            );
        }
        assert_eq!(
            Format::from_accept(Some("application/openmetrics-text;q=0.01")),
            Format::OpenMetrics
        );
    }

    static TEMPERATURE: Histogram = Histogram::new(
        MetricDesc::histogram("test_temperature_celsius", "Temperature")
            .buckets(&[-10.0, 0.0, 10.0]),
    );

    #[test]
    fn a_histogram_with_negative_bounds_has_no_sum_in_openmetrics() {
        TEMPERATURE.observe(-20.0);
        TEMPERATURE.observe(f64::NAN);
        TEMPERATURE.observe(5.0);
        let render = |format| {
            let mut out = String::new();
            render_into(&[&TEMPERATURE], format, &mut out);
            out
        };
        let open = render(Format::OpenMetrics);
        assert!(
            open.contains("test_temperature_celsius_bucket{le=\"-10.0\"} 1\n"),
            "{open}"
        );
        assert!(
            open.contains("test_temperature_celsius_bucket{le=\"+Inf\"} 2\n"),
            "the NaN is not counted: {open}"
        );
        assert!(!open.contains("_sum") && !open.contains("_count"), "{open}");
        let text = render(Format::Prometheus);
        assert!(
            text.contains("test_temperature_celsius_sum -15.0\n"),
            "not NaN: {text}"
        );
        assert!(
            text.contains("test_temperature_celsius_count 2\n"),
            "{text}"
        );
    }

    #[test]
    fn floats_are_canonical() {
        let mut out = String::new();
        let values = [
            1.0,
            0.25,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            0.0,
            -2.0,
            0.005,
            0.0001,
            0.00001,
            100_000.0,
            999_999.5,
            1e6,
            2.5e6,
            -1.5e7,
            1e10,
            1e21,
            1.2345e-7,
        ];
        for v in values {
            float(v, &mut out);
            out.push(' ');
        }
        // What Go's strconv.FormatFloat(v, 'g', -1, 64) writes, with `.0`
        // added when it has neither a point nor an exponent.
        assert_eq!(
            out,
            "1.0 0.25 +Inf -Inf NaN 0.0 -2.0 0.005 0.0001 1e-05 100000.0 999999.5 \
             1e+06 2.5e+06 -1.5e+07 1e+10 1e+21 1.2345e-07 "
        );
    }

    #[test]
    fn escaping_copies_runs_and_keeps_unicode() {
        let mut out = String::new();
        escape_label_value("plain", &mut out);
        escape_label_value("é\"x\\y\nz\"", &mut out);
        escape_help("a \"quoted\" help\\", false, &mut out);
        assert_eq!(out, "plainé\\\"x\\\\y\\nz\\\"a \"quoted\" help\\\\");
    }
}
