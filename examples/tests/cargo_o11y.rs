//! `cargo o11y check` end to end, as the README's tour runs it: from the
//! workspace, `cargo run -p cargo-o11y -- o11y check --example quickstart`
//! builds and runs the quickstart with `O11Y_COMMAND=check`; against a
//! real collector (rotel) every finding is OK, the exit status is 0, and
//! rotel received the test span under the printed trace id.

use o11y_test_support as common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

#[test]
fn cargo_o11y_check_of_the_quickstart_is_all_ok_and_its_test_span_reaches_rotel() {
    let Some(rotel) = common::Rotel::start() else {
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let state = std::env::temp_dir().join(format!("o11y-cargo-check-{}", std::process::id()));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(&root)
        .args(["run", "--quiet", "-p", "cargo-o11y", "--"])
        .args(["o11y", "check", "--example", "quickstart"]);
    // Only what this test sets: the caller's o11y variables would change
    // what is checked.
    for (key, _) in std::env::vars_os() {
        if let Some(key) = key.to_str()
            && (key.starts_with("O11Y_") || key.starts_with("OTEL_"))
        {
            command.env_remove(key);
        }
    }
    command
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
        // The dev profile's log file, away from the user's state directory.
        .env("XDG_STATE_HOME", &state);
    let output = command.output().expect("running cargo");
    let _ = std::fs::remove_dir_all(&state);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let describe = || {
        format!(
            "status {}\n--- stdout ---\n{stdout}\n--- stderr ---\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )
    };
    assert_eq!(output.status.code(), Some(0), "{}", describe());
    assert!(
        stdout.starts_with("o11y check of `quickstart` (profile dev, "),
        "{}",
        describe()
    );
    for line in stdout.lines().filter(|line| line.starts_with("  ")) {
        assert!(line.starts_with("  OK "), "not OK: {line}\n{}", describe());
    }
    assert!(
        stdout
            .lines()
            .any(|line| line == "  OK       features: axum, sqlx"),
        "{}",
        describe()
    );
    assert!(
        stdout.trim_end().ends_with(" OK, 0 warnings, 0 errors"),
        "{}",
        describe()
    );
    let trace_id = stdout
        .lines()
        .find_map(|line| {
            line.strip_suffix(')')?
                .split_once("acknowledged by the collector (trace id ")
                .map(|(_, id)| id.to_owned())
        })
        .unwrap_or_else(|| panic!("no test span line: {}", describe()));
    let spans = rotel.wait_for_spans(Duration::from_secs(10), |spans| {
        spans
            .iter()
            .any(|span| span["trace_id"] == trace_id.as_str())
    });
    let span = spans
        .iter()
        .find(|span| span["trace_id"] == trace_id.as_str())
        .unwrap();
    assert_eq!(span["name"], "o11y check", "{span}");
    assert_eq!(span["resource"]["service.name"], "quickstart", "{span}");
}
