//! The `check` command: is this program's set-up working? It prints
//! sections of findings, each OK, a warning or an error:
//!
//! - **Configuration**: the config file read, then every key's value and
//!   its source (default, `file:line`, environment variable, code); or why
//!   the configuration does not load;
//! - **Build**: o11y's version, the compiled features, debug or release,
//!   the profile;
//! - **OTLP export**: each exported signal's endpoint reachable, and a
//!   test span (and a test log record, when log records are exported)
//!   exported through the program's own exporters and acknowledged by the
//!   collector, with the test trace's id;
//! - **Log file**: writable, when one is configured;
//! - **Metrics**: the link-time catalog linted as `promtool check metrics`
//!   does, and who may scrape the endpoint;
//!
//! then `N OK, N warnings, N errors`. Exit status 1 on any error. With
//! `--json`, one JSON document instead (schema [`CHECK_SCHEMA_VERSION`]):
//! `schema_version`, `service`, `profile`, `o11y_version`, `test_trace_id`
//! (`null` unless the collector acknowledged the test span), `sections`
//! (each `name`, `title` and `findings`, a finding being its `status`
//! (`ok`, `warning` or `error`), its `message` (the text line's) and
//! fields for machines, such as `key`, `value`, `source` of a
//! configuration value or `metric`, `problem` of a lint error), and
//! `summary` (`ok`, `warnings`, `errors`).

mod log_file;
mod metrics;
mod otlp;
mod promlint;
mod settings;

use serde_json::Value;

use super::args::{Args, Failure};
use super::report::{Report, Section};
use super::{Context, Outcome, Output};

/// The version of the `check --json` document's schema.
pub const CHECK_SCHEMA_VERSION: u32 = 1;

pub(super) const USAGE: &str = "\
usage: cargo o11y check [--example NAME | --bin NAME | -p PACKAGE] [--json]
       O11Y_COMMAND=check O11Y_COMMAND_ARGS='[--json]' <program>

Checks the program's o11y set-up instead of running it: the configuration
(each value and its source), the build, the OTLP endpoints (a test span sent
and acknowledged), the log file, the metric catalog (linted as `promtool
check metrics` does) and the /metrics access settings. Exit status 1 on any
error.

  --json  one JSON document (schema_version 1) instead of text";

pub(super) fn run(
    args: &mut Args,
    context: &Context<'_>,
    output: &mut Output<'_>,
) -> Result<Outcome, Failure> {
    let as_json = args.flag("--json");
    args.finish(&["--json"])?;
    let report = report(context);
    if as_json {
        let document = report.to_json(CHECK_SCHEMA_VERSION);
        serde_json::to_writer_pretty(&mut *output.out, &document).map_err(std::io::Error::from)?;
        writeln!(output.out)?;
    } else {
        report.write_text(output.out)?;
    }
    Ok(if report.counts().errors > 0 {
        Outcome::Failed
    } else {
        Outcome::Passed
    })
}

/// Runs every check.
fn report(context: &Context<'_>) -> Report {
    let config = context.config;
    let heading = match config {
        Ok(config) => format!(
            "o11y check of `{}` (profile {}, o11y {})",
            config.service_name,
            config.profile,
            env!("CARGO_PKG_VERSION")
        ),
        Err(_) => format!(
            "o11y check (o11y {}): the configuration does not load",
            env!("CARGO_PKG_VERSION")
        ),
    };
    let mut report = Report::new(heading);
    let config = config.ok();
    report.fact("service", config.map(|c| c.service_name.clone()));
    report.fact("profile", config.map(|c| c.profile.as_str()));
    report.fact("o11y_version", env!("CARGO_PKG_VERSION"));
    report.push(settings::configuration(context.config));
    report.push(settings::build(context.config));
    let mut metrics = Section::new("metrics", "Metrics");
    metrics::catalog(&mut metrics);
    let mut trace_id = None;
    match config {
        Some(config) => {
            let (otlp, acknowledged) = otlp::otlp(config, context.exporters_in_code);
            trace_id = acknowledged;
            report.push(otlp);
            report.push(log_file::log_file(config));
            metrics::access(config, &mut metrics);
        }
        None => {
            for (name, title) in [("otlp", "OTLP export"), ("log_file", "Log file")] {
                let mut section = Section::new(name, title);
                section.warning("not checked: the configuration does not load (see above)");
                report.push(section);
            }
            metrics.warning("access settings not checked: the configuration does not load");
        }
    }
    report.push(metrics);
    report.fact("test_trace_id", trace_id.map_or(Value::Null, Value::from));
    report
}
