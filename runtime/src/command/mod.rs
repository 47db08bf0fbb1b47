//! Commands a program runs instead of itself: started with
//! `O11Y_COMMAND=<name>`, any program that calls `o11y::init()` (or
//! [`init_with`](crate::init_with), [`layer`](crate::layer),
//! [`Setup`](crate::Setup)) runs that command when it gets there, prints its
//! output on stdout and exits with its status, before anything is set up.
//! `cargo o11y <command>` (the `cargo-o11y` crate) runs a binary or an
//! example of a package this way.
//!
//! | command | what it does |
//! |---|---|
//! | `check` | checks the set-up: every configuration value with its source, the compiled features and profile, the OTLP endpoints (reachable, and a test span and log record acknowledged by the collector), the log file, the metric catalog linted as `promtool check metrics` does, and the `/metrics` access settings; `--json` for machines |
//! | `catalog` | lists the link-time metric catalog: a table, or with `--json` a document of a stable schema (see [`CATALOG_SCHEMA_VERSION`]) |
//! | `dashboards` | writes Grafana dashboards for what the catalog holds: overview, functions, database, tasks, the application's metrics, o11y itself, objectives |
//! | `rules` | writes Prometheus alerting and recording rules: HTTP, database, tasks, o11y itself, and burn-rate alerts of the objectives |
//! | `stack` | writes a Docker Compose stack (Grafana, Prometheus, Tempo, Loki, an OpenTelemetry Collector, Pyroscope) with the dashboards and rules in place |
//!
//! Arguments reach the command through `O11Y_COMMAND_ARGS`, split as a
//! POSIX shell splits words (`--out "my dir"`), since the program's own
//! arguments are its own: `O11Y_COMMAND=check O11Y_COMMAND_ARGS=--json`.
//! `--help` prints a command's usage.
//!
//! Exit statuses: [`EXIT_OK`] (0), [`EXIT_FAILED`] (1: the command found an
//! error, or could not write its output) and [`EXIT_USAGE`] (2: an unknown
//! command or argument, said on stderr with the closest known one).
//!
//! Both variables are read from the process environment only, never from
//! `o11y.toml` or [`ConfigBuilder`](crate::config::ConfigBuilder): they say
//! what this one run does, not how the program is observed, and a file
//! that named a command would turn every start of the program into it.
//!
//! A command is a module of its own and one row of `COMMANDS`: its name,
//! usage and the function that runs it, which reads its arguments from
//! `Args` and writes to the `Output` it is handed.

mod args;
mod catalog;
mod check;
mod dashboards;
mod inventory;
mod report;
mod rules;
mod slos;
mod stack;
mod yaml;

use std::io::Write;

use crate::config::{Config, ConfigError};

pub use catalog::CATALOG_SCHEMA_VERSION;
pub use check::CHECK_SCHEMA_VERSION;

use args::{Args, Failure};

/// The variable naming the command to run instead of the program.
pub const COMMAND_VAR: &str = "O11Y_COMMAND";
/// The variable holding the command's arguments, split as a shell splits words.
pub const ARGS_VAR: &str = "O11Y_COMMAND_ARGS";

/// The command ran and found nothing wrong (or, for `--help`, printed its usage).
pub const EXIT_OK: i32 = 0;
/// The command found an error, or could not write its output.
pub const EXIT_FAILED: i32 = 1;
/// Not a command, or not an argument of it.
pub const EXIT_USAGE: i32 = 2;

/// What a command is handed: the configuration the program would have run
/// with (or why it does not load), and what was given in code.
pub(crate) struct Context<'a> {
    pub(crate) config: Result<&'a Config, &'a ConfigError>,
    /// Span and log exporters given in code ([`Setup`](crate::Setup)), which
    /// no command exercises.
    pub(crate) exporters_in_code: usize,
}

/// How a command ended, when it ran to its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Passed,
    Failed,
}

/// Where a command writes: its output, and its diagnostics.
pub(crate) struct Output<'a> {
    pub(crate) out: &'a mut dyn Write,
    pub(crate) err: &'a mut dyn Write,
}

type Run = fn(&mut Args, &Context<'_>, &mut Output<'_>) -> Result<Outcome, Failure>;

/// One command: a row of [`COMMANDS`].
struct Command {
    name: &'static str,
    /// The usage line and what the arguments do.
    usage: &'static str,
    run: Run,
}

/// Every command. Adding one: a module with its `run` and `USAGE`, and a row here.
const COMMANDS: &[Command] = &[
    Command {
        name: "check",
        usage: check::USAGE,
        run: check::run,
    },
    Command {
        name: "catalog",
        usage: catalog::USAGE,
        run: catalog::run,
    },
    Command {
        name: "dashboards",
        usage: dashboards::USAGE,
        run: dashboards::run,
    },
    Command {
        name: "rules",
        usage: rules::USAGE,
        run: rules::run,
    },
    Command {
        name: "stack",
        usage: stack::USAGE,
        run: stack::run,
    },
];

/// The names of the commands `O11Y_COMMAND` accepts.
pub fn names() -> impl Iterator<Item = &'static str> {
    COMMANDS.iter().map(|command| command.name)
}

/// A command asked for in the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invocation {
    name: String,
    args: String,
}

impl Invocation {
    pub(crate) fn new(name: &str, args: &str) -> Invocation {
        Invocation {
            name: name.trim().to_owned(),
            args: args.to_owned(),
        }
    }
}

/// The command `O11Y_COMMAND` names, if it is set (and not blank).
pub(crate) fn requested() -> Option<Invocation> {
    let name = std::env::var(COMMAND_VAR).ok()?;
    if name.trim().is_empty() {
        return None;
    }
    let args = std::env::var(ARGS_VAR).unwrap_or_default();
    Some(Invocation::new(&name, &args))
}

/// Runs `invocation` on the process's stdout and stderr and exits with its status.
pub(crate) fn exit_with(invocation: &Invocation, context: &Context<'_>) -> ! {
    let status = run(
        invocation,
        context,
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    );
    let _ = std::io::stdout().flush();
    std::process::exit(status)
}

/// Runs `invocation`, writing its output to `out` and usage errors to
/// `err`; returns the exit status.
pub(crate) fn run(
    invocation: &Invocation,
    context: &Context<'_>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let Some(command) = COMMANDS.iter().find(|c| c.name == invocation.name) else {
        let _ = writeln!(err, "{}", unknown_command(&invocation.name));
        return EXIT_USAGE;
    };
    let mut args = match Args::parse(&invocation.args) {
        Ok(args) => args,
        Err(problem) => return usage_error(command, &problem, err),
    };
    if args.help() {
        return match writeln!(out, "{}", command.usage) {
            Ok(()) => EXIT_OK,
            Err(_) => EXIT_FAILED,
        };
    }
    match (command.run)(&mut args, context, &mut Output { out, err }) {
        Ok(Outcome::Passed) => EXIT_OK,
        Ok(Outcome::Failed) => EXIT_FAILED,
        Err(Failure::Usage(problem)) => usage_error(command, &problem, err),
        Err(Failure::Output(error)) => {
            let _ = writeln!(
                err,
                "o11y {}: cannot write the output: {error}",
                command.name
            );
            EXIT_FAILED
        }
    }
}

fn usage_error(command: &Command, problem: &str, err: &mut dyn Write) -> i32 {
    let _ = writeln!(err, "o11y {}: {problem}\n\n{}", command.name, command.usage);
    EXIT_USAGE
}

fn unknown_command(name: &str) -> String {
    let known: Vec<&str> = names().collect();
    let suggestion = args::closest(name, &known)
        .map(|close| format!("; did you mean `{close}`?"))
        .unwrap_or_default();
    format!(
        "o11y: unknown command `{name}` ({COMMAND_VAR}){suggestion} The commands: {}.",
        known.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_text(name: &str, args: &str) -> (i32, String, String) {
        let config = Config::builder()
            .no_config_file()
            .env_vars([("O11Y_PROFILE", "test")])
            .build()
            .unwrap();
        let context = Context {
            config: Ok(&config),
            exporters_in_code: 0,
        };
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let status = run(&Invocation::new(name, args), &context, &mut out, &mut err);
        (
            status,
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    }

    #[test]
    fn an_unknown_command_is_a_usage_error_with_the_closest_name() {
        let (status, out, err) = run_text("chek", "");
        assert_eq!(status, EXIT_USAGE);
        assert_eq!(out, "");
        assert_eq!(
            err.trim_end(),
            "o11y: unknown command `chek` (O11Y_COMMAND); did you mean `check`? \
             The commands: check, catalog, dashboards, rules, stack."
        );
    }

    #[test]
    fn an_unknown_argument_is_a_usage_error_with_the_usage() {
        let (status, _, err) = run_text("catalog", "--jsn");
        assert_eq!(status, EXIT_USAGE);
        assert!(
            err.starts_with(
                "o11y catalog: unknown argument `--jsn` (O11Y_COMMAND_ARGS); did you mean `--json`?"
            ),
            "{err}"
        );
        assert!(err.contains(catalog::USAGE), "{err}");
    }

    #[test]
    fn help_prints_the_usage() {
        let (status, out, _) = run_text("check", "--help");
        assert_eq!((status, out.trim_end()), (EXIT_OK, check::USAGE));
    }
}
