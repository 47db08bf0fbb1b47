//! What the `ops_*` tests share: the quickstart's executable run with an
//! `O11Y_COMMAND` (as `cargo o11y` runs it), with a route objective in
//! `O11Y_SLO_ROUTES` next to the function objective its code declares; and
//! the tools they check the output with (promtool, docker-compose).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use o11y_test_support as common;

/// The route objective the tests give the quickstart, as `o11y.toml`'s
/// `slo.routes` would.
pub const ROUTE_OBJECTIVE: &str = "GET /orders: success = 99, latency = 500ms at 95";

/// The quickstart example's executable, built by `cargo test -p o11y-examples`.
pub fn quickstart_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test binary runs from target/<profile>/deps");
    let binary = profile_dir
        .join("examples")
        .join(format!("quickstart{}", std::env::consts::EXE_SUFFIX));
    assert!(
        binary.is_file(),
        "{} is missing: `cargo test -p o11y-examples` builds it, \
         or `cargo build -p o11y-examples --example quickstart`",
        binary.display()
    );
    binary
}

/// The quickstart with only the o11y variables given here.
pub fn quickstart(state: &Path) -> Command {
    let mut command = Command::new(quickstart_binary());
    for (key, _) in std::env::vars_os() {
        if let Some(key) = key.to_str()
            && (key.starts_with("O11Y_") || key.starts_with("OTEL_"))
        {
            command.env_remove(key);
        }
    }
    command
        .env("O11Y_SLO_ROUTES", ROUTE_OBJECTIVE)
        // The dev profile's log file, away from the user's state directory.
        .env("XDG_STATE_HOME", state);
    command
}

/// Runs `O11Y_COMMAND=command O11Y_COMMAND_ARGS=args` on the quickstart;
/// panics unless it exits 0.
pub fn run_command(command: &str, args: &str, scratch: &Path) -> String {
    let output = quickstart(scratch)
        .env("O11Y_COMMAND", command)
        .env("O11Y_COMMAND_ARGS", args)
        .output()
        .expect("running the quickstart");
    assert_success(&format!("O11Y_COMMAND={command} {args}"), &output);
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Panics with both outputs unless `output` is a success.
pub fn assert_success(what: &str, output: &Output) {
    assert!(
        output.status.success(),
        "{what}: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A fresh scratch directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("o11y-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

/// A tool installed by the peer script `peer` (promtool by `prometheus`);
/// `None` (the test skips) when it is missing, a failure under
/// `O11Y_REQUIRE_PEERS=1`.
// Each test binary compiles this module; ops_dashboards needs no tool.
#[allow(dead_code)]
pub fn tool(name: &str, peer: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    });
    if found.is_none() {
        if common::peers_required() {
            panic!(
                "peer {peer} ({name}) is required (O11Y_REQUIRE_PEERS=1) but not installed: \
                 run scripts/peers/{peer}.sh install"
            );
        }
        common::stderr_line(&format!(
            "skipping: peer {peer} ({name}) not installed (run scripts/peers/{peer}.sh install)"
        ));
    }
    found
}
