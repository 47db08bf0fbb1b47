//! A TLS-terminating proxy in front of a plain peer, for the `https://`
//! tests (rotel cannot terminate TLS itself): `tests/fixtures/tls_proxy.py`,
//! on python3's standard library (`ssl`, `asyncio`), accepts TLS on a free
//! port of 127.0.0.1, offering ALPN `h2` (gRPC) and `http/1.1`, and pipes the
//! bytes to the peer's port unchanged.
//!
//! The certificates are the test's: `common` stays `std`-only, so a test
//! makes them (with `rcgen`, see `tests/otlp_export.rs`) and hands them over
//! as PEM ([`ServerTls`]); the proxy writes the CA to [`TlsProxy::ca_file`]
//! for the client to trust.
//!
//! Like the peers: in a child process, [`TlsProxy::start`] attaches to the
//! parent's proxy (same port, same files); the parent's handle stops the
//! proxy and removes its directory on drop (`O11Y_PEERS_KEEP_DIRS=1` keeps
//! it), and the script exits by itself once the test process is gone. A
//! missing python3 skips the test, or fails it under `O11Y_REQUIRE_PEERS=1`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::{
    LIVE_PEERS, NEXT_PEER_ID, PeerInfo, attach_info, file_tail, keep_peer_dirs, make_workdir,
    peers_required, stderr_line, workspace_root,
};

const KIND: &str = "tls-proxy";

/// What the proxy presents, as PEM.
pub struct ServerTls {
    /// The CA that signed `cert_pem`, which clients are to trust (and, with
    /// `require_client_certificate`, that must have signed theirs).
    pub ca_pem: String,
    /// The server's certificate (valid for `127.0.0.1`) and its private key.
    pub cert_pem: String,
    /// The private key of `cert_pem`.
    pub key_pem: String,
    /// Ask every client for a certificate signed by the CA (mutual TLS).
    pub require_client_certificate: bool,
    /// More files for the proxy's directory, `(name, text)`, at
    /// [`TlsProxy::file`]: a client's certificate and key, say.
    pub files: Vec<(&'static str, String)>,
}

/// A running TLS proxy (see the module doc).
pub struct TlsProxy {
    info: PeerInfo,
    /// The script's process, in the process that started it; `None` when
    /// attached to the parent's.
    process: Option<Child>,
    id: u64,
}

impl TlsProxy {
    /// Starts a proxy to `127.0.0.1:target` with the certificates `tls`
    /// makes (called only when a proxy is started, not in a child, which
    /// attaches to its parent's). `None` when python3 is missing (see the
    /// module doc); panics if the proxy does not start.
    pub fn start(target: u16, tls: impl FnOnce() -> ServerTls) -> Option<TlsProxy> {
        if let Some(info) = attach_info(KIND) {
            return Some(TlsProxy {
                info,
                process: None,
                id: 0,
            });
        }
        let python = Command::new("python3")
            .args(["-c", "import asyncio, ssl"])
            .output();
        if !python.is_ok_and(|out| out.status.success()) {
            if peers_required() {
                panic!(
                    "peer {KIND} is required (O11Y_REQUIRE_PEERS=1) but python3 (with its \
                     ssl module) is not installed: apt-get install python3"
                );
            }
            stderr_line(&format!(
                "skipping: peer {KIND} needs python3, which is not installed"
            ));
            return None;
        }
        let workdir = make_workdir(KIND);
        let tls = tls();
        let write = |name: &str, text: &str| {
            let path = workdir.join(name);
            std::fs::write(&path, text)
                .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
            path
        };
        let ca = write("ca.pem", &tls.ca_pem);
        let cert = write("server.pem", &tls.cert_pem);
        let key = write("server.key", &tls.key_pem);
        for (name, text) in &tls.files {
            write(name, text);
        }
        let port_file = workdir.join("port");
        let log_path = workdir.join("tls-proxy.log");
        let log = std::fs::File::create(&log_path)
            .unwrap_or_else(|e| panic!("creating {}: {e}", log_path.display()));
        let script = workspace_root().join("tests/fixtures/tls_proxy.py");
        let mut command = Command::new("python3");
        command
            .arg(&script)
            .arg("--target")
            .arg(target.to_string())
            .arg("--cert")
            .arg(&cert)
            .arg("--key")
            .arg(&key)
            .arg("--port-file")
            .arg(&port_file)
            .arg("--owner-pid")
            .arg(std::process::id().to_string());
        if tls.require_client_certificate {
            command.arg("--client-ca").arg(&ca);
        }
        let mut process = command
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log file"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("starting python3 {}: {e}", script.display()));
        let port = match wait_for_port(&port_file, &mut process) {
            Ok(port) => port,
            Err(why) => {
                let _ = process.kill();
                let _ = process.wait();
                panic!(
                    "peer {KIND} failed to start: {why}\n--- last lines of {} ---\n{}",
                    log_path.display(),
                    file_tail(&log_path, 20)
                );
            }
        };
        let info = PeerInfo {
            kind: KIND.to_string(),
            workdir,
            ports: vec![port],
        };
        let id = NEXT_PEER_ID.fetch_add(1, Ordering::Relaxed);
        LIVE_PEERS.with(|l| l.borrow_mut().push((id, info.clone())));
        Some(TlsProxy {
            info,
            process: Some(process),
            id,
        })
    }

    /// The TLS port the proxy listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.info.ports[0]
    }

    /// `https://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("https://127.0.0.1:{}", self.port())
    }

    /// The CA certificate (PEM) the proxy's certificate chains to.
    pub fn ca_file(&self) -> PathBuf {
        self.file("ca.pem")
    }

    /// A file of the proxy's directory (see [`ServerTls::files`]).
    pub fn file(&self, name: &str) -> PathBuf {
        self.workdir().join(name)
    }

    /// The proxy's directory (certificates, log).
    pub fn workdir(&self) -> &Path {
        &self.info.workdir
    }

    /// The proxy's log: one line per connection (TLS version, ALPN,
    /// client certificate) and per TLS failure.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.workdir().join("tls-proxy.log")).unwrap_or_default()
    }
}

/// The port the script writes to `port_file` once it listens (10 s at most).
fn wait_for_port(port_file: &Path, process: &mut Child) -> Result<u16, String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(text) = std::fs::read_to_string(port_file) {
            return text
                .trim()
                .parse()
                .map_err(|e| format!("{} holds {text:?}: {e}", port_file.display()));
        }
        if let Some(status) = process.try_wait().expect("waiting for the proxy") {
            return Err(format!("the script exited with {status}"));
        }
        if Instant::now() >= deadline {
            return Err("no port after 10 s".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Drop for TlsProxy {
    fn drop(&mut self) {
        let Some(process) = &mut self.process else {
            return;
        };
        LIVE_PEERS.with(|l| l.borrow_mut().retain(|(id, _)| *id != self.id));
        let _ = process.kill();
        let _ = process.wait();
        let workdir = &self.info.workdir;
        if std::thread::panicking() {
            // Shown with the failed test's output: what the proxy saw.
            let log = workdir.join("tls-proxy.log");
            eprintln!(
                "--- last lines of {} ---\n{}",
                log.display(),
                file_tail(&log, 30)
            );
        }
        if keep_peer_dirs() {
            stderr_line(&format!("kept peer {KIND} dir: {}", workdir.display()));
        } else if let Err(e) = std::fs::remove_dir_all(workdir)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            stderr_line(&format!("warning: removing {}: {e}", workdir.display()));
        }
    }
}
