//! Test support for o11y's integration tests (`tests/*.rs` of `o11y`,
//! `examples/tests/*.rs` of `o11y-examples`): real peers, child processes,
//! an HTTP client and server, and readers of what o11y printed or exposed.
//!
//! A dev-dependency of both packages, never published. Test files name it
//! `common` (`use o11y_test_support as common;`). It does not depend on
//! `o11y`, so it turns on none of its features: a test binary sees exactly
//! the feature set its run was compiled with. What needs o11y's API is a
//! macro expanded in the test crate ([`report_prometheus!`]). Besides `std`
//! and `serde_json` it uses `tokio` (the workspace's features, which
//! `o11y-runtime` has, and `rt-multi-thread`, which `o11y`'s tests have) and
//! `axum` (with features `o11y`'s dev-dependency has) for the runtime and
//! server helpers of [`server`].
//!
//! # Peers
//!
//! [`Rotel`], [`Prometheus`], [`Postgres`], [`Redis`] and [`Chromedriver`] each start a real
//! server on free loopback ports through `scripts/peers/<peer>.sh start`, in a
//! fresh directory under the system temp dir, and stop it (and remove the
//! directory) on drop. Set `O11Y_PEERS_KEEP_DIRS=1` to keep the directories
//! (their paths are printed). A watchdog started by the script stops the peer
//! if the test process dies without dropping the handle.
//!
//! `X::start()` returns `None` when the peer is not installed (`scripts/peers/
//! <peer>.sh installed` fails): it prints one line on stderr,
//! `skipping: peer rotel not installed (run scripts/peers/rotel.sh install)`,
//! and the test returns early. With `O11Y_REQUIRE_PEERS=1` (what
//! `scripts/test.sh` sets) a missing peer panics instead. A peer that is
//! installed but fails to start always panics, with the script's output and
//! the peer's log tail. Tests never install peers themselves.
//!
//! ```no_run
//! # use o11y_test_support as common;
//! # fn a_test() {
//! let Some(rotel) = common::Rotel::start() else { return };
//! # let _ = rotel.grpc_endpoint();
//! # }
//! ```
//!
//! What each handle offers (all have `port()`s and `workdir()`):
//! - [`Rotel`]: `grpc_endpoint()`, `http_endpoint()`, `spans()`, `logs()`,
//!   `metrics()` (flat JSON, shapes in `scripts/peers/rotel_processor.py`),
//!   `wait_for_spans/logs/metrics(timeout, pred)`, `clear()`, `log()`.
//! - [`Prometheus`]: `url()`, `add_scrape_target(host_port, interval)`,
//!   `query(promql)`, `query_vector`, `query_vector_at(promql, time)`,
//!   `wait_for_query`, `query_exemplars`, `get(path)`, `reload()`.
//! - [`Postgres`]: `url()` (`postgres://postgres@127.0.0.1:P/o11y_test`),
//!   `psql(sql)`.
//! - [`Redis`]: `url()` (`redis://127.0.0.1:P`), `cmd(&[..]) -> Resp`.
//! - [`Chromedriver`]: `url()` (the WebDriver endpoint of headless
//!   Chromium, `http://127.0.0.1:P`), `log()`; [`artifacts_dir`] is where a
//!   test leaves its screenshots (`<target>/o11y-artifacts/`).
//!
//! [`TlsProxy`] puts TLS in front of a peer's plain port (rotel cannot
//! terminate TLS): `TlsProxy::start(port, || ServerTls { .. })`, with
//! certificates the test makes; `endpoint()` (`https://127.0.0.1:P`),
//! `ca_file()`, `log()`. It needs only python3, and follows the peers' rules
//! (attached in a child, skipped or required like a peer).
//!
//! [`SentryReceiver`] stands in for Sentry: a listener in the test's own
//! process (no peer to install) whose `dsn()` the child's `SENTRY_DSN`
//! names; `events()`, `envelopes()`, `requests()` and `everything()` read
//! back what the SDK posted.
//!
//! Also [`free_port`], [`peers_required`], [`read_jsonl`], [`wait_until`],
//! [`named`], [`random_hex`], [`unix_now`], [`noop_context`], the secrets corpus
//! [`secrets`], the std-only
//! HTTP/1.1 client [`http`], the axum server helpers [`server`], the lenient
//! exposition reader [`exposition`] and the child-scenario helpers
//! [`scenario`].
//!
//! # Child processes
//!
//! `o11y::init()` installs a process-global subscriber once, so a test that
//! calls it runs its body in a child process: [`child`] re-runs the current
//! test binary as `<exe> --exact <test_name> --nocapture --test-threads=1`
//! with `O11Y_TEST_CHILD=<test_name>`.
//!
//! A test file written this way (it needs `o11y`, which this crate does
//! not depend on, so the example is not compiled here; `tests/otlp_export.rs`
//! is one):
//!
//! ```text
//! #[test]
//! fn spans_reach_rotel_over_grpc() {
//!     let Some(rotel) = common::Rotel::start() else { return };
//!     let out = common::child("spans_reach_rotel_over_grpc")
//!         .env("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint())
//!         .run(|| {
//!             let _o11y = o11y::init().unwrap(); // flushes when dropped
//!             tracing::info_span!("work").in_scope(|| {});
//!         });
//!     // Back in the parent only: the child ran the body and exited 0.
//!     let spans = rotel.wait_for_spans(Duration::from_secs(10), |s| !s.is_empty());
//!     assert!(out.stdout.contains("..."));
//! }
//! ```
//!
//! How the child runs: the whole test function runs again in the child, from
//! the top. `X::start()` in a child does not start a second peer: it attaches
//! to the one the parent started (the parent passes every peer handle alive
//! on its thread, in `O11Y_TEST_PEERS`; the n-th `Rotel::start()` in the child
//! gets the parent's n-th live rotel), so ports, endpoints and workdir are the
//! same in both processes, and the attached handle's drop does nothing. Then
//! `child(...).run(body)` runs `body`, prints a completion marker, and exits
//! the child with status 0 (a panic in `body` fails it). In the parent,
//! `run` waits (default timeout 60 s, then kills the child), asserts that
//! the child exited 0 *and* completed the body (so a child that returned
//! early, e.g. a skipped peer or a misspelled test name that made libtest run
//! nothing, fails loudly), and returns its stdout/stderr.
//!
//! Rules: pass the test's name as libtest prints it (`foo` for a top-level
//! `#[test] fn foo` in a test file, `module::foo` inside `mod module`; the
//! parent checks it against the test thread's name); keep peer handles alive
//! until `run` returns; run at most one child per test function; put
//! everything that needs the global subscriber inside `body`. The child's
//! environment drops the caller's `OTEL_*` and `O11Y_*` variables (except
//! `O11Y_REQUIRE_PEERS` and `O11Y_PEERS_DIR`; o11y's config rejects unknown
//! `O11Y_*` names, so e.g. `O11Y_PEERS_KEEP_DIRS` is not passed on) unless
//! [`ChildBuilder::inherit_env`] is called; set what the body needs with
//! [`ChildBuilder::env`]. The child also gets `O11Y_TEST_CHILD` and
//! `O11Y_TEST_PEERS`, which o11y's config allows.

mod child;
mod chromium;
pub mod exposition;
pub mod http;
mod postgres;
mod prometheus;
mod redis;
mod rotel;
pub mod scenario;
pub mod secrets;
pub mod sentry;
pub mod server;
mod tls_proxy;

pub use child::{CHILD_ENV, ChildBuilder, ChildOutput, child, in_child, is_child};
pub use chromium::{Chromedriver, artifacts_dir};
pub use postgres::Postgres;
pub use prometheus::Prometheus;
pub use redis::{Redis, Resp};
pub use rotel::Rotel;
pub use sentry::SentryReceiver;
pub use tls_proxy::{ServerTls, TlsProxy};

use std::cell::RefCell;
use std::collections::HashSet;
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Waker};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// True when `O11Y_REQUIRE_PEERS` is `1` (or `true`/`yes`): a missing peer
/// then fails the test instead of skipping it.
pub fn peers_required() -> bool {
    matches!(
        std::env::var("O11Y_REQUIRE_PEERS").as_deref(),
        Ok("1") | Ok("true") | Ok("yes")
    )
}

/// True when `O11Y_PEERS_KEEP_DIRS=1`: peer directories survive the test.
pub fn keep_peer_dirs() -> bool {
    matches!(
        std::env::var("O11Y_PEERS_KEEP_DIRS").as_deref(),
        Ok("1") | Ok("true") | Ok("yes")
    )
}

/// The workspace root (where `scripts/` lives): the nearest directory at or
/// above this crate's (`tests/support/`) with `scripts/peers`.
pub fn workspace_root() -> PathBuf {
    let package = Path::new(env!("CARGO_MANIFEST_DIR"));
    package
        .ancestors()
        .find(|dir| dir.join("scripts/peers").is_dir())
        .unwrap_or(package)
        .to_path_buf()
}

/// `scripts/peers/<peer>.sh` in the workspace.
pub fn peer_script(peer: &str) -> PathBuf {
    workspace_root()
        .join("scripts/peers")
        .join(format!("{peer}.sh"))
}

static HANDED_OUT: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

/// A free TCP port on 127.0.0.1 (bind to port 0, read it, release it). Never
/// hands out the same port twice in one process.
pub fn free_port() -> u16 {
    for _ in 0..100 {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local_addr").port();
        drop(listener);
        let mut set = HANDED_OUT.lock().unwrap_or_else(|e| e.into_inner());
        if set.get_or_insert_with(HashSet::new).insert(port) {
            return port;
        }
    }
    panic!("free_port: no new free port after 100 tries");
}

/// Write one line straight to the process's stderr, past libtest's output
/// capture, so a skip is visible in a plain `cargo test` run.
pub fn stderr_line(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
    let _ = err.flush();
}

/// Read a JSONL file: every complete (newline-terminated) non-empty line,
/// parsed. A missing file reads as empty.
pub fn read_jsonl(path: &Path) -> Vec<Value> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => panic!("reading {}: {e}", path.display()),
    };
    let complete = match text.rfind('\n') {
        Some(i) => &text[..=i],
        None => "",
    };
    complete
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("{}: bad JSON line ({e}): {l}", path.display()))
        })
        .collect()
}

/// Poll `read` every 50 ms until `pred` accepts what it returns, or panic
/// after `timeout` with `describe(last)`.
pub fn wait_until<T>(
    timeout: Duration,
    mut read: impl FnMut() -> T,
    pred: impl Fn(&T) -> bool,
    describe: impl FnOnce(&T) -> String,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        let v = read();
        if pred(&v) {
            return v;
        }
        if Instant::now() >= deadline {
            panic!("timed out after {timeout:?}: {}", describe(&v));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Items of a JSONL list whose `"name"` equals `name`.
pub fn named<'a>(items: &'a [Value], name: &str) -> Vec<&'a Value> {
    items.iter().filter(|v| v["name"] == name).collect()
}

/// The last `n` lines of a text file ("" if unreadable).
pub fn file_tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Now, in seconds since the Unix epoch (what Prometheus's `time=` takes).
pub fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

/// A context whose waker does nothing, to poll a future by hand.
pub fn noop_context() -> Context<'static> {
    Context::from_waker(Waker::noop())
}

/// A random-enough lowercase hex string of `len` digits (ids for test data).
pub fn random_hex(len: usize) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut out = String::with_capacity(len);
    let mut state = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
        ^ ((std::process::id() as u64) << 32)
        ^ COUNTER
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    while out.len() < len {
        // splitmix64
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        out.push_str(&format!("{z:016x}"));
    }
    out.truncate(len);
    out
}

// ---------------------------------------------------------------------------
// Peer processes, shared by the four peer types.

/// What a child process needs to attach to a peer its parent started.
#[derive(Clone, Debug)]
pub(crate) struct PeerInfo {
    pub kind: String,
    pub workdir: PathBuf,
    pub ports: Vec<u16>,
}

impl PeerInfo {
    fn to_json(&self) -> Value {
        serde_json::json!({
            "kind": self.kind,
            "workdir": self.workdir.to_string_lossy(),
            "ports": self.ports,
        })
    }

    fn from_json(v: &Value) -> Option<PeerInfo> {
        Some(PeerInfo {
            kind: v["kind"].as_str()?.to_string(),
            workdir: PathBuf::from(v["workdir"].as_str()?),
            ports: v["ports"]
                .as_array()?
                .iter()
                .map(|p| p.as_u64().map(|p| p as u16))
                .collect::<Option<Vec<u16>>>()?,
        })
    }
}

/// Env var carrying the parent's live peers to a child (a JSON list).
pub(crate) const PEERS_ENV: &str = "O11Y_TEST_PEERS";

static NEXT_PEER_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// Peers started (and still alive) on this thread, in start order.
    static LIVE_PEERS: RefCell<Vec<(u64, PeerInfo)>> = const { RefCell::new(Vec::new()) };
    /// In a child: how many peers of each kind this thread attached so far.
    static ATTACHED: RefCell<Vec<(String, usize)>> = const { RefCell::new(Vec::new()) };
}

/// The live peers of this thread, as the JSON passed to a child.
pub(crate) fn live_peers_json() -> String {
    LIVE_PEERS
        .with(|l| Value::Array(l.borrow().iter().map(|(_, p)| p.to_json()).collect()).to_string())
}

/// In a child: the parent's peer of `kind` matching this call's position.
fn attach_info(kind: &str) -> Option<PeerInfo> {
    if !is_child() {
        return None;
    }
    let raw = std::env::var(PEERS_ENV).ok()?;
    let all: Vec<PeerInfo> = serde_json::from_str::<Value>(&raw)
        .ok()?
        .as_array()?
        .iter()
        .filter_map(PeerInfo::from_json)
        .filter(|p| p.kind == kind)
        .collect();
    if all.is_empty() {
        return None;
    }
    let n = ATTACHED.with(|a| {
        let mut a = a.borrow_mut();
        match a.iter_mut().find(|(k, _)| k == kind) {
            Some((_, n)) => {
                *n += 1;
                *n - 1
            }
            None => {
                a.push((kind.to_string(), 1));
                0
            }
        }
    });
    Some(all[n.min(all.len() - 1)].clone())
}

/// A running peer: owns its workdir and stops the peer on drop, or (in a
/// child) is attached to the parent's peer and does nothing on drop.
pub(crate) struct PeerProcess {
    id: u64,
    pub info: PeerInfo,
    owned: bool,
}

/// Outcome of [`PeerProcess::start`] when the peer is not installed.
pub(crate) fn missing_peer(kind: &str) -> Option<PeerProcess> {
    let script = format!("scripts/peers/{kind}.sh");
    if peers_required() {
        panic!(
            "peer {kind} is required (O11Y_REQUIRE_PEERS=1) but not installed: \
             run {script} install (or scripts/peers/install-all.sh)"
        );
    }
    stderr_line(&format!(
        "skipping: peer {kind} not installed (run {script} install)"
    ));
    None
}

impl PeerProcess {
    /// Start peer `kind` with `nports` fresh ports (see the module doc).
    pub fn start(kind: &str, nports: usize) -> Option<PeerProcess> {
        if let Some(info) = attach_info(kind) {
            return Some(PeerProcess {
                id: 0,
                info,
                owned: false,
            });
        }
        let script = peer_script(kind);
        let installed = Command::new("bash")
            .arg(&script)
            .arg("installed")
            .output()
            .unwrap_or_else(|e| panic!("running {} installed: {e}", script.display()));
        if !installed.status.success() {
            return missing_peer(kind);
        }
        let mut last_failure = String::new();
        for attempt in 1..=3 {
            let workdir = make_workdir(kind);
            let ports: Vec<u16> = (0..nports).map(|_| free_port()).collect();
            let mut cmd = Command::new("bash");
            cmd.arg(&script)
                .arg("start")
                .arg(&workdir)
                .args(ports.iter().map(|p| p.to_string()))
                .env("O11Y_PEER_OWNER_PID", std::process::id().to_string())
                .env(
                    "O11Y_PEER_WATCHDOG_RM",
                    if keep_peer_dirs() { "0" } else { "1" },
                );
            let out = cmd
                .output()
                .unwrap_or_else(|e| panic!("running {} start: {e}", script.display()));
            if out.status.success() {
                let info = PeerInfo {
                    kind: kind.to_string(),
                    workdir,
                    ports,
                };
                let id = NEXT_PEER_ID.fetch_add(1, Ordering::Relaxed);
                LIVE_PEERS.with(|l| l.borrow_mut().push((id, info.clone())));
                return Some(PeerProcess {
                    id,
                    info,
                    owned: true,
                });
            }
            last_failure = format!(
                "attempt {attempt}: `{} start {} {}` exited with {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
                script.display(),
                workdir.display(),
                ports
                    .iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join(" "),
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
            );
            stop_and_remove(kind, &workdir, false);
            let port_clash = String::from_utf8_lossy(&out.stderr).contains("already in use")
                || String::from_utf8_lossy(&out.stderr).contains("ddress in use");
            if !port_clash {
                break;
            }
        }
        panic!("peer {kind} is installed but failed to start:\n{last_failure}");
    }

    pub fn workdir(&self) -> &Path {
        &self.info.workdir
    }

    pub fn port(&self, i: usize) -> u16 {
        self.info.ports[i]
    }
}

impl Drop for PeerProcess {
    fn drop(&mut self) {
        if !self.owned {
            return;
        }
        LIVE_PEERS.with(|l| l.borrow_mut().retain(|(id, _)| *id != self.id));
        stop_and_remove(&self.info.kind, &self.info.workdir, keep_peer_dirs());
    }
}

fn make_workdir(kind: &str) -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let base = std::env::temp_dir();
    loop {
        let dir = base.join(format!(
            "o11y-{kind}-{}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed),
            random_hex(6)
        ));
        match std::fs::create_dir(&dir) {
            Ok(()) => return dir,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => panic!("creating {}: {e}", dir.display()),
        }
    }
}

fn stop_and_remove(kind: &str, workdir: &Path, keep: bool) {
    let script = peer_script(kind);
    // The script removes the workdir itself (before ending the watchdog), so
    // a test process killed during drop still leaves nothing behind.
    match Command::new("bash")
        .arg(&script)
        .arg("stop")
        .arg(workdir)
        .env("O11Y_PEER_STOP_RM", if keep { "0" } else { "1" })
        .output()
    {
        Ok(out) if out.status.success() => {}
        Ok(out) => stderr_line(&format!(
            "warning: {} stop {} failed: {}{}",
            script.display(),
            workdir.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )),
        Err(e) => stderr_line(&format!("warning: running {} stop: {e}", script.display())),
    }
    if keep {
        stderr_line(&format!("kept peer {kind} dir: {}", workdir.display()));
    } else if let Err(e) = std::fs::remove_dir_all(workdir)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        stderr_line(&format!("warning: removing {}: {e}", workdir.display()));
    }
}

/// Fail a test with what a peer received, its log and processor errors.
pub(crate) fn peer_report(workdir: &Path, log_name: &str) -> String {
    let mut s = String::new();
    let errors = workdir.join("processor-errors.log");
    if errors.exists() {
        s.push_str(&format!(
            "\n--- {} ---\n{}",
            errors.display(),
            file_tail(&errors, 40)
        ));
    }
    let log = workdir.join(log_name);
    s.push_str(&format!(
        "\n--- last lines of {} ---\n{}",
        log.display(),
        file_tail(&log, 20)
    ));
    s
}
