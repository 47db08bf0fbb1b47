//! What `init()` and the servers it starts report when they cannot start:
//! one error type for the application's `main`. Above `config` and
//! `metrics`, whose errors it carries; below everything that returns it.

use crate::config::ConfigError;
use crate::metrics::RegistryError;

/// Why `init()` failed. Its `Debug` is its message too, so that a `main`
/// returning `Result<(), o11y::Error>` prints what to fix, not the enum.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration has a bad value; the message says which, where from, and what is allowed.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// `init()` already ran in this process.
    #[error(
        "o11y is already initialised in this process: call init() once, at the start of main, \
         and keep its guard until the end"
    )]
    AlreadyInitialized,
    /// Another global `tracing` subscriber was installed first.
    #[error(
        "a global tracing subscriber is already installed; to add o11y to your own subscriber, \
         use o11y::layer() instead of o11y::init()"
    )]
    SubscriberAlreadySet,
    /// The JSON log file could not be opened.
    #[error("cannot open the log file {path} (logging.file_path): {source}")]
    LogFile {
        /// The configured path.
        path: std::path::PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
    /// A metric is invalid or declared twice in the binary.
    #[error(transparent)]
    Metrics(#[from] RegistryError),
    /// Two observed functions would share one series of
    /// `function_calls_total`: the same `function` and `module` labels.
    #[error(
        "two observed functions are both named `{function}` in module `{module}`, at {first_site} \
         and {second_site}: their calls would merge into one series of function_calls_total; \
         rename one, or move it to another module"
    )]
    SharedFunctionSeries {
        /// The `function` label they share.
        function: String,
        /// The `module` label they share.
        module: String,
        /// Where the first is defined.
        first_site: String,
        /// Where the second is defined.
        second_site: String,
    },
    /// The exporters could not be set up.
    #[error("cannot set up telemetry export: {0}")]
    Export(String),
    /// `dev_console.enabled` under the `prod` profile without
    /// `dev_console.allow_in_prod`.
    #[error(
        "dev_console.enabled is true under the prod profile: the dev console shows every \
         request's spans and log lines to the clients of dev_console.allow_from; set \
         dev_console.allow_in_prod = true (O11Y_DEV_CONSOLE_ALLOW_IN_PROD=true) as well if \
         that is meant, or turn dev_console.enabled off"
    )]
    DevConsoleInProd,
    /// The standalone metrics server could not start (address in use, …).
    #[error("cannot serve metrics on {addr}: {source}")]
    MetricsServer {
        /// The address it was asked to bind.
        addr: String,
        /// Why it failed.
        source: std::io::Error,
    },
}

impl std::fmt::Debug for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}
