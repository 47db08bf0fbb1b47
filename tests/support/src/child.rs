//! Run a test's body in a child process (see the module doc of `common`).

use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::{PEERS_ENV, live_peers_json};

/// Set in a child to the name of the test it runs.
pub const CHILD_ENV: &str = "O11Y_TEST_CHILD";

/// Printed by the child on stdout once `body` returned.
const DONE_MARKER: &str = "o11y-test-child: body completed: ";

/// The harness's own variables, passed to the child even without
/// [`ChildBuilder::inherit_env`]. Only names that o11y's config allows
/// besides its keys (`O11Y_TEST*`, `O11Y_REQUIRE*`, `O11Y_PEERS*`): any other
/// `O11Y_*` variable makes `o11y::init()` fail as an unknown key.
const KEPT_VARS: &[&str] = &["O11Y_REQUIRE_PEERS", "O11Y_PEERS_DIR"];

/// True in a child process started by [`child`].
pub fn is_child() -> bool {
    std::env::var_os(CHILD_ENV).is_some()
}

/// Start building a child run of the test named `test_name` (libtest's name:
/// `foo`, or `module::foo` inside a module).
pub fn child(test_name: &str) -> ChildBuilder {
    ChildBuilder {
        test_name: test_name.to_string(),
        envs: Vec::new(),
        removed: Vec::new(),
        timeout: Duration::from_secs(60),
        allow_failure: false,
        inherit_env: false,
    }
}

/// `child(test_name).env(k, v)... .run(body)` in one call.
pub fn in_child(test_name: &str, envs: &[(&str, &str)], body: impl FnOnce()) -> ChildOutput {
    let mut b = child(test_name);
    for (k, v) in envs {
        b = b.env(k, v);
    }
    b.run(body)
}

/// Options for a child run; finish with [`ChildBuilder::run`].
#[must_use = "call .run(body)"]
pub struct ChildBuilder {
    test_name: String,
    envs: Vec<(OsString, OsString)>,
    removed: Vec<OsString>,
    timeout: Duration,
    allow_failure: bool,
    inherit_env: bool,
}

/// What the child did.
#[derive(Debug)]
pub struct ChildOutput {
    /// How the child exited.
    pub status: ExitStatus,
    /// What the body printed: the child's stdout without libtest's
    /// "running 1 test" header and the harness's completion marker.
    pub stdout: String,
    /// The child's whole stdout.
    pub raw_stdout: String,
    /// The child's whole stderr.
    pub stderr: String,
    /// The child ran `body` to its end (and then exited 0).
    pub completed: bool,
}

impl ChildOutput {
    /// The child exited 0 and completed the body.
    pub fn success(&self) -> bool {
        self.status.success() && self.completed
    }

    /// stdout then stderr, for assertions that don't care which.
    pub fn combined(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

impl ChildBuilder {
    /// Set a variable in the child.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.envs
            .push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// Remove a variable from the child's environment.
    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Self {
        self.removed.push(key.as_ref().to_owned());
        self
    }

    /// Kill the child and fail after this long (default 60 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Return the output even if the child failed (for tests that expect a
    /// panic or a non-zero exit); check [`ChildOutput::success`] yourself.
    pub fn allow_failure(mut self) -> Self {
        self.allow_failure = true;
        self
    }

    /// Keep the caller's `OTEL_*` / `O11Y_*` variables in the child (by
    /// default they are removed so the child sees only what the test sets).
    pub fn inherit_env(mut self) -> Self {
        self.inherit_env = true;
        self
    }

    /// In the child: run `body`, then exit 0. In the parent: run the child,
    /// wait, check it (unless [`ChildBuilder::allow_failure`]), return its
    /// output.
    pub fn run(self, body: impl FnOnce()) -> ChildOutput {
        if let Some(name) = std::env::var_os(CHILD_ENV) {
            if name != OsStr::new(&self.test_name) {
                panic!(
                    "child({:?}) called in a child started for test {name:?}: use one \
                     child per test function, named after that test",
                    self.test_name
                );
            }
            body();
            // On a line of its own: libtest has printed "test name ... ".
            println!("\n{DONE_MARKER}{}", self.test_name);
            let _ = std::io::stdout().flush();
            let _ = std::io::stderr().flush();
            std::process::exit(0);
        }
        self.run_parent()
    }

    fn run_parent(self) -> ChildOutput {
        check_test_name(&self.test_name);
        let exe = std::env::current_exe().expect("current_exe");
        let mut cmd = Command::new(&exe);
        cmd.args([
            "--exact",
            &self.test_name,
            "--nocapture",
            "--test-threads=1",
            // No "test name ... " before the body's output.
            "--quiet",
        ]);
        if !self.inherit_env {
            for (k, _) in std::env::vars_os() {
                let Some(k) = k.to_str() else { continue };
                if (k.starts_with("OTEL_") || k.starts_with("O11Y_")) && !KEPT_VARS.contains(&k) {
                    cmd.env_remove(k);
                }
            }
        }
        if std::env::var_os("RUST_BACKTRACE").is_none() {
            cmd.env("RUST_BACKTRACE", "1");
        }
        cmd.env(CHILD_ENV, &self.test_name)
            .env(PEERS_ENV, live_peers_json());
        for k in &self.removed {
            cmd.env_remove(k);
        }
        for (k, v) in &self.envs {
            cmd.env(k, v);
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut proc = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawning child {}: {e}", exe.display()));
        let mut out_pipe = proc.stdout.take().expect("stdout pipe");
        let mut err_pipe = proc.stderr.take().expect("stderr pipe");
        let out_reader = std::thread::spawn(move || {
            let mut b = Vec::new();
            let _ = out_pipe.read_to_end(&mut b);
            b
        });
        let err_reader = std::thread::spawn(move || {
            let mut b = Vec::new();
            let _ = err_pipe.read_to_end(&mut b);
            b
        });
        let deadline = Instant::now() + self.timeout;
        let mut timed_out = false;
        let status = loop {
            match proc.try_wait().expect("waiting for child") {
                Some(status) => break status,
                None if Instant::now() >= deadline => {
                    timed_out = true;
                    let _ = proc.kill();
                    break proc.wait().expect("waiting for killed child");
                }
                None => std::thread::sleep(Duration::from_millis(10)),
            }
        };
        let raw_stdout =
            String::from_utf8_lossy(&out_reader.join().unwrap_or_default()).into_owned();
        let stderr = String::from_utf8_lossy(&err_reader.join().unwrap_or_default()).into_owned();
        let marker = format!("\n{DONE_MARKER}{}\n", self.test_name);
        let completed = raw_stdout.contains(&marker);
        let out = ChildOutput {
            status,
            stdout: body_stdout(&raw_stdout, &marker),
            raw_stdout,
            stderr,
            completed,
        };
        let problem = if timed_out {
            Some(format!("timed out after {:?} and was killed", self.timeout))
        } else if self.allow_failure {
            None
        } else if !out.status.success() {
            Some(format!("failed ({})", out.status))
        } else if !out.completed {
            Some(format!(
                "exited 0 without completing the body: did the test return early \
                 (a skipped peer?), or is {:?} not libtest's name for this test \
                 (`module::name` inside a module)?",
                self.test_name
            ))
        } else {
            None
        };
        if let Some(problem) = problem {
            panic!(
                "child process for test {:?} {problem}\n--- child stdout ---\n{}\n--- child stderr ---\n{}",
                self.test_name, out.raw_stdout, out.stderr
            );
        }
        out
    }
}

/// The body's part of the child's stdout (see [`ChildOutput::stdout`]).
fn body_stdout(raw: &str, marker: &str) -> String {
    let mut s = raw;
    for header in ["\nrunning 1 test\n", "running 1 test\n"] {
        if let Some(rest) = s.strip_prefix(header) {
            s = rest;
            break;
        }
    }
    match s.rfind(marker) {
        Some(i) => {
            let (before, after) = (&s[..i], &s[i + marker.len()..]);
            // The newline printed before the marker ends an unfinished line.
            let nl = if before.is_empty() || before.ends_with('\n') {
                ""
            } else {
                "\n"
            };
            format!("{before}{nl}{after}")
        }
        None => s.to_string(),
    }
}

/// libtest runs each test on a thread named after it: catch a wrong name
/// early (a mismatch would make the child run no test at all).
fn check_test_name(test_name: &str) {
    let thread = std::thread::current();
    if let Some(name) = thread.name()
        && name != "main"
        && name != test_name
    {
        panic!(
            "child({test_name:?}) called from test {name:?}: pass libtest's name of the \
             calling test, i.e. child({name:?})"
        );
    }
}
