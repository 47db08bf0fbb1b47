//! A worker's last step: export what is still queued, within a bounded
//! wait, so the final tasks' spans and logs are not lost when it stops.

use std::time::Duration;

/// How long [`shutdown`] waits for the exporters.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// Exports every span and log line queued so far, waiting at most
/// [`DEFAULT_SHUTDOWN_TIMEOUT`]; `true` if everything was exported in time
/// (and when o11y is not initialised: there is nothing to export). Dropping
/// the guard of `init()` does the same (within `shutdown_timeout`) and then
/// stops the exporters; call this where a worker stops taking tasks, e.g.
/// on SIGTERM, before the guard goes:
///
/// ```no_run
/// // tokio's `signal`, `macros` and `rt-multi-thread` features
/// # async fn next_task() -> Option<()> { None }
/// # async fn run(_: ()) {}
/// #[tokio::main]
/// async fn main() -> Result<(), o11y_runtime::Error> {
///     let _o11y = o11y_runtime::init()?;
///     let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
///         .expect("SIGTERM handler");
///     loop {
///         tokio::select! {
///             _ = sigterm.recv() => break,        // stop taking tasks
///             Some(task) = next_task() => run(task).await,
///         }
///     }
///     o11y_runtime::task::shutdown();             // bounded flush of the last tasks
///     Ok(())                                      // the guard drops: exporters stop
/// }
/// ```
pub fn shutdown() -> bool {
    shutdown_timeout(DEFAULT_SHUTDOWN_TIMEOUT)
}

/// [`shutdown`] with a wait of your choosing.
///
/// ```
/// // Not initialised: nothing queued, returns at once.
/// assert!(o11y_runtime::task::shutdown_timeout(std::time::Duration::from_millis(10)));
/// ```
pub fn shutdown_timeout(timeout: Duration) -> bool {
    if crate::flags::flags() == 0 {
        return true;
    }
    crate::export::flush(timeout)
}
