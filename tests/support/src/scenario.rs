//! What o11y's own integration tests share on top of the peers: a child
//! process set up for a scenario, the runtime and metrics report of the
//! child, and reading back what the child printed (its JSON log lines and
//! the values it reported). What needs o11y's API is a macro
//! ([`report_prometheus!`](crate::report_prometheus)), expanded in the test
//! crate, which depends on `o11y`: this crate does not.

use serde_json::Value;

use super::{ChildBuilder, ChildOutput, child};

const REPORT_PREFIX: &str = "o11y-test-report ";

/// A child that will call `o11y::init()` with a known base: the `dev`
/// profile (whatever profile feature the suite is compiled with), JSON log
/// lines on stdout at `info`, no log file, and the test's name as
/// `service.name`. Each `.env(..)` added later overrides these.
pub fn o11y_child(test_name: &str) -> ChildBuilder {
    child(test_name)
        .env("O11Y_PROFILE", "dev")
        .env("O11Y_LOGGING_FORMAT", "json")
        .env("O11Y_LOGGING_LEVEL", "info")
        .env("O11Y_LOGGING_FILE_ENABLED", "false")
        .env("OTEL_SERVICE_NAME", test_name)
}

/// In the child: hands a value to the parent through stdout.
pub fn report(key: &str, value: Value) {
    // On a line of its own: libtest may have printed "test name ... " just before.
    println!("\n{REPORT_PREFIX}{key} {value}");
}

/// In the child: hands a text to the parent (a JSON string of it).
pub fn report_text(key: &str, text: String) {
    report(key, Value::from(text));
}

/// In the child: reports o11y's metrics, as Prometheus text, under `key`
/// (read back with [`reported`]). A macro, expanded in the test crate, so
/// that this crate needs no dependency on `o11y`.
#[macro_export]
macro_rules! report_prometheus {
    ($key:expr) => {
        $crate::scenario::report_text(
            $key,
            ::o11y::metrics::render(::o11y::metrics::Format::Prometheus),
        )
    };
}
pub use crate::report_prometheus;

/// In the child: the runtime its async calls run on (see also
/// [`server::runtime`](crate::server::runtime), multi-threaded).
pub fn current_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// In the parent: the value the child reported under `key`.
pub fn reported(output: &ChildOutput, key: &str) -> Value {
    let prefix = format!("{REPORT_PREFIX}{key} ");
    output
        .stdout
        .lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .map(|json| serde_json::from_str(json).expect("reported value is JSON"))
        .unwrap_or_else(|| {
            panic!(
                "the child reported no {key:?}; its output:\n{}",
                output.combined()
            )
        })
}

/// Every JSON log line on the child's stdout. The first one may follow
/// libtest's "test name ... " on the same line.
pub fn json_lines(output: &ChildOutput) -> Vec<Value> {
    output
        .stdout
        .lines()
        .filter_map(|line| line.find("{\"timestamp\"").map(|start| &line[start..]))
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("log line is not JSON ({e}): {line}"))
        })
        .collect()
}

/// The one log line whose `event` (message) is `event`.
pub fn log_line<'a>(lines: &'a [Value], event: &str) -> &'a Value {
    let found: Vec<&Value> = lines.iter().filter(|line| line["event"] == event).collect();
    assert_eq!(
        found.len(),
        1,
        "expected one log line {event:?}, found {}; all lines:\n{lines:#?}",
        found.len()
    );
    found[0]
}

/// The one span named `name` among those a collector received.
pub fn span_named<'a>(spans: &'a [Value], name: &str) -> &'a Value {
    let found: Vec<&Value> = spans.iter().filter(|span| span["name"] == name).collect();
    assert_eq!(
        found.len(),
        1,
        "expected one span {name:?}, found {}; all spans:\n{spans:#?}",
        found.len()
    );
    found[0]
}

/// A `traceparent` header value (a JSON string) split into its trace id,
/// parent id and flags, after checking its shape and version `00`.
#[track_caller]
pub fn traceparent_parts(header: &Value) -> (String, String, String) {
    let header = header
        .as_str()
        .unwrap_or_else(|| panic!("no traceparent: {header}"));
    let fields: Vec<&str> = header.split('-').collect();
    assert_eq!(fields.len(), 4, "{header}");
    assert_eq!(fields[0], "00", "{header}");
    (
        fields[1].to_owned(),
        fields[2].to_owned(),
        fields[3].to_owned(),
    )
}
