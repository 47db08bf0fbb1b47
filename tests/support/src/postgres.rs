//! PostgreSQL 15: a fresh cluster per handle, trust auth, superuser
//! `postgres`, database `o11y_test`, on 127.0.0.1 only.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::PeerProcess;

/// A running PostgreSQL (see the module doc of `common`).
pub struct Postgres {
    peer: PeerProcess,
}

impl Postgres {
    /// Start PostgreSQL on a free port; `None` if not installed.
    pub fn start() -> Option<Postgres> {
        PeerProcess::start("postgres", 1).map(|peer| Postgres { peer })
    }

    /// The port PostgreSQL listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.peer.port(0)
    }

    /// `postgres://postgres@127.0.0.1:<port>/o11y_test`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/o11y_test", self.port())
    }

    /// The peer's directory (cluster, log).
    pub fn workdir(&self) -> &Path {
        self.peer.workdir()
    }

    /// Run SQL with `psql -Atq` (unaligned, tuples only) on `o11y_test`;
    /// returns stdout, panics with stderr on failure.
    pub fn psql(&self, sql: &str) -> String {
        let out = Command::new(psql_bin())
            .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "o11y_test"])
            .args(["-p", &self.port().to_string()])
            .args(["-v", "ON_ERROR_STOP=1", "-Atq", "-c", sql])
            .env("PGCONNECT_TIMEOUT", "10")
            .output()
            .expect("run psql");
        assert!(
            out.status.success(),
            "psql -c {sql:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

fn psql_bin() -> PathBuf {
    if let Ok(dir) = std::env::var("O11Y_PG_BIN") {
        return PathBuf::from(dir).join("psql");
    }
    let debian = PathBuf::from("/usr/lib/postgresql/15/bin/psql");
    if debian.exists() {
        debian
    } else {
        PathBuf::from("psql")
    }
}
