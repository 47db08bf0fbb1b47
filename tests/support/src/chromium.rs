//! Headless Chromium's WebDriver server (chromedriver), for the dev
//! console's browser test: the test drives it with a WebDriver client of
//! its own, and asks for `--headless` in the session's capabilities.

use std::path::{Path, PathBuf};

use super::PeerProcess;

/// A running chromedriver (see the module doc of `common`).
pub struct Chromedriver {
    peer: PeerProcess,
}

impl Chromedriver {
    /// Starts chromedriver on a free port; `None` if Chromium or chromedriver
    /// is not installed (a failure under `O11Y_REQUIRE_PEERS=1`).
    pub fn start() -> Option<Chromedriver> {
        PeerProcess::start("chromium", 1).map(|peer| Chromedriver { peer })
    }

    /// The port chromedriver listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.peer.port(0)
    }

    /// `http://127.0.0.1:<port>`, the WebDriver endpoint.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port())
    }

    /// The peer's directory (chromedriver's log).
    pub fn workdir(&self) -> &Path {
        self.peer.workdir()
    }

    /// The last lines of chromedriver's log, for a failure message.
    pub fn log(&self) -> String {
        super::file_tail(&self.workdir().join("chromedriver.log"), 40)
    }
}

/// Where a test run leaves what a person looks at afterwards (screenshots):
/// `<target dir>/o11y-artifacts/`, created. The target directory is the one
/// the running test binary was built into (`<target>/<profile>/deps/<bin>`).
pub fn artifacts_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let target = exe
        .ancestors()
        .nth(3)
        .expect("the test binary runs from <target>/<profile>/deps")
        .to_path_buf();
    let dir = target.join("o11y-artifacts");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    dir
}
