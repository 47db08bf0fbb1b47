//! `cargo o11y <command>`: builds and runs a binary or an example of the
//! current workspace (`cargo run`) with `O11Y_COMMAND=<command>`, so that
//! its `o11y::init()` runs that o11y command instead of the program, and
//! exits with the command's status. The command's own arguments (`--json`)
//! go in `O11Y_COMMAND_ARGS`; the target selection and what follows `--`
//! go to `cargo run`.
//!
//! Installed, cargo finds it as the `o11y` subcommand (`cargo o11y check`,
//! run as `cargo-o11y o11y check`); from o11y's workspace,
//! `cargo run -p cargo-o11y -- o11y check --example quickstart`.
//!
//! Standard library only, besides `shlex` to quote the arguments as the
//! runtime splits them.

use std::ffi::OsString;
use std::process::{Command, ExitCode};

const USAGE: &str = "\
usage: cargo o11y <COMMAND> [--example NAME | --bin NAME] [-p PACKAGE] [--release]
                  [--features FEATURES] [COMMAND ARGUMENTS] [-- CARGO RUN ARGUMENTS]

Runs a binary or an example that calls o11y::init() (with `cargo run`), with
O11Y_COMMAND=<COMMAND>: o11y runs the command instead of the program and
exits with its status (0 fine, 1 an error found, 2 a usage error).

Commands:
  check    checks the set-up: the configuration (each value and its source), the
           build, the OTLP endpoints (a test span sent and acknowledged), the log
           file, the metric catalog (linted as `promtool check metrics` does) and
           the /metrics access settings; --json for one JSON document
  catalog  lists the link-time metric catalog; --json for a document of a stable
           schema, --out FILE to write it to a file
  dashboards  writes Grafana dashboards for what the catalog holds (--out DIR)
  rules    writes Prometheus alerting and recording rules, SLO burn-rate alerts
           included (--out FILE)
  stack    writes a Docker Compose stack: Grafana, Prometheus, Tempo, Loki, an
           OpenTelemetry Collector, Pyroscope, with the dashboards and rules (--out DIR)

Which program (as `cargo run` takes them):
  --example NAME         an example
  --bin NAME             a binary
  -p, --package PACKAGE  the package of the binary or example
  --release              the release profile
  --features FEATURES    features to turn on

Every other argument is the command's (O11Y_COMMAND_ARGS); `cargo o11y check
--help` prints the command's own usage. What follows `--` goes to `cargo run`
(e.g. `-- --quiet`).

Examples:
  cargo o11y check --example quickstart
  cargo o11y check --bin server --json
  OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4317 cargo o11y check --bin server
  cargo o11y catalog -p worker --json --out catalog.json
  cargo o11y dashboards --example quickstart --out dashboards
  cargo o11y rules --bin server --out rules.yml
  cargo o11y stack --bin server --out stack --app host.docker.internal:8080";

/// What to run: the command, its arguments, and `cargo run`'s.
#[derive(Debug, PartialEq, Eq)]
struct Invocation {
    command: String,
    command_args: Vec<String>,
    cargo_args: Vec<String>,
}

/// What the arguments ask for.
#[derive(Debug, PartialEq, Eq)]
enum Request {
    Run(Invocation),
    Help,
}

/// The `cargo run` options that take a value, and the flags.
const CARGO_OPTIONS: &[&str] = &["--example", "--bin", "-p", "--package", "--features"];
const CARGO_FLAGS: &[&str] = &["--release"];

/// Reads the arguments after the program name (and after `o11y`, when
/// cargo runs it as a subcommand).
fn parse(args: &[String]) -> Result<Request, String> {
    let mut args = args.iter().peekable();
    let command = match args.next().map(String::as_str) {
        None => return Err("no command given".to_owned()),
        Some("-h" | "--help" | "help") => return Ok(Request::Help),
        Some(word) if word.starts_with('-') => {
            return Err(format!(
                "`{word}` before the command: give the command first"
            ));
        }
        Some(command) => command.to_owned(),
    };
    let mut invocation = Invocation {
        command,
        command_args: Vec::new(),
        cargo_args: Vec::new(),
    };
    while let Some(arg) = args.next() {
        let name = arg.split('=').next().unwrap_or(arg);
        if arg == "--" {
            invocation.cargo_args.extend(args.by_ref().cloned());
        } else if CARGO_FLAGS.contains(&arg.as_str()) {
            invocation.cargo_args.push(arg.clone());
        } else if CARGO_OPTIONS.contains(&name) {
            invocation.cargo_args.push(arg.clone());
            if name == arg {
                let value = args
                    .next()
                    .filter(|value| !value.starts_with('-'))
                    .ok_or_else(|| format!("{arg} needs a value"))?;
                invocation.cargo_args.push(value.clone());
            }
        } else {
            invocation.command_args.push(arg.clone());
        }
    }
    Ok(Request::Run(invocation))
}

/// `cargo run …` with the command in the environment.
fn cargo_run(invocation: &Invocation, cargo: OsString) -> Result<Command, String> {
    let args = shlex::try_join(invocation.command_args.iter().map(String::as_str))
        .map_err(|e| format!("cannot pass the command's arguments: {e}"))?;
    let mut command = Command::new(cargo);
    command
        .arg("run")
        .args(&invocation.cargo_args)
        .env("O11Y_COMMAND", &invocation.command)
        .env("O11Y_COMMAND_ARGS", args);
    Ok(command)
}

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo o11y …` runs `cargo-o11y o11y …`.
    if args.first().is_some_and(|first| first == "o11y") {
        args.remove(0);
    }
    let invocation = match parse(&args) {
        Ok(Request::Run(invocation)) => invocation,
        Ok(Request::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(problem) => {
            eprintln!("cargo o11y: {problem}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    // Cargo says where it is when it runs a subcommand (or `cargo run`).
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = match cargo_run(&invocation, cargo) {
        Ok(command) => command,
        Err(problem) => {
            eprintln!("cargo o11y: {problem}");
            return ExitCode::from(2);
        }
    };
    match command.status() {
        Ok(status) => match status.code() {
            Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
            None => {
                eprintln!("cargo o11y: `cargo run` was stopped by a signal ({status})");
                ExitCode::FAILURE
            }
        },
        Err(error) => {
            eprintln!("cargo o11y: cannot run cargo: {error}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    fn invocation(text: &str) -> Invocation {
        match parse(&words(text)) {
            Ok(Request::Run(invocation)) => invocation,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn the_target_goes_to_cargo_and_the_rest_to_the_command() {
        assert_eq!(
            invocation("check --example quickstart --json -p o11y-examples -- --quiet"),
            Invocation {
                command: "check".to_owned(),
                command_args: words("--json"),
                cargo_args: words("--example quickstart -p o11y-examples --quiet"),
            }
        );
        assert_eq!(
            invocation("catalog --bin=server --release --out dir --features=a,b").cargo_args,
            words("--bin=server --release --features=a,b")
        );
        assert_eq!(
            invocation("catalog --bin=server --out dir").command_args,
            words("--out dir")
        );
    }

    #[test]
    fn usage_problems_are_said() {
        assert_eq!(parse(&[]), Err("no command given".to_owned()));
        assert_eq!(parse(&words("--help")), Ok(Request::Help));
        assert_eq!(
            parse(&words("--json check")),
            Err("`--json` before the command: give the command first".to_owned())
        );
        assert_eq!(
            parse(&words("check --example")),
            Err("--example needs a value".to_owned())
        );
    }

    #[test]
    fn the_command_and_its_quoted_arguments_are_in_the_environment() {
        let invocation = Invocation {
            command: "catalog".to_owned(),
            command_args: vec!["--out".to_owned(), "my dir/c.json".to_owned()],
            cargo_args: words("--example quickstart"),
        };
        let command = cargo_run(&invocation, "cargo".into()).unwrap();
        let args: Vec<_> = command.get_args().collect();
        assert_eq!(args, ["run", "--example", "quickstart"]);
        let envs: Vec<_> = command.get_envs().collect();
        assert!(envs.contains(&("O11Y_COMMAND".as_ref(), Some("catalog".as_ref()))));
        assert!(envs.contains(&(
            "O11Y_COMMAND_ARGS".as_ref(),
            Some("--out 'my dir/c.json'".as_ref())
        )));
    }
}
