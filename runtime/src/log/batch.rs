//! Log lines for a standard output that is not a terminal (a file, a pipe
//! to a log shipper), written in batches: lines collect in one buffer that
//! goes out in one `write` when [`FLUSH_BYTES`] are waiting, when a warning
//! or an error is logged, every [`FLUSH_EVERY`] (a flusher thread), and when
//! o11y is flushed (`o11y::flush`, `Guard::flush`) or its guard dropped.
//!
//! A service that logs a line per request then pays a copy per line rather
//! than a system call per line (about 1.5 µs on a 2-core VM, a sixth of
//! what a small axum request costs). The price: when the process dies
//! without dropping `init()`'s guard (`kill -9`, `std::process::exit`), the
//! `info` lines of its last [`FLUSH_EVERY`] are lost. Lines on a terminal
//! are written at once, and so is everything once the guard is dropped.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// A batch is written once it holds this much.
pub(crate) const FLUSH_BYTES: usize = 32 * 1024;

/// The longest a line waits.
pub(crate) const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// The lines waiting. One per process, like standard output.
static BUFFER: Mutex<Vec<u8>> = Mutex::new(Vec::new());

/// Batching is on: a guard with a flusher is alive.
static BATCHING: AtomicBool = AtomicBool::new(false);

/// Writes `line` to standard output: into the batch while batching is on
/// (then the batch too, when it is full or `urgent`), else at once.
pub(crate) fn write_stdout(line: &[u8], urgent: bool) -> std::io::Result<()> {
    if !BATCHING.load(Ordering::Relaxed) {
        return std::io::stdout().lock().write_all(line);
    }
    let mut buffer = BUFFER.lock().unwrap_or_else(|e| e.into_inner());
    append(&mut buffer, line, urgent, || std::io::stdout().lock())
}

/// Adds `line` to `buffer`, and writes the buffer to `out` when it is full
/// or `urgent`. The buffer stays locked during the write, so batches go out
/// in order; its memory is kept for the next batch.
fn append<W: Write>(
    buffer: &mut Vec<u8>,
    line: &[u8],
    urgent: bool,
    out: impl FnOnce() -> W,
) -> std::io::Result<()> {
    if buffer.capacity() == 0 {
        buffer.reserve(FLUSH_BYTES + 4096);
    }
    buffer.extend_from_slice(line);
    if urgent || buffer.len() >= FLUSH_BYTES {
        write_out(buffer, out())?;
    }
    Ok(())
}

fn write_out(buffer: &mut Vec<u8>, mut out: impl Write) -> std::io::Result<()> {
    if buffer.is_empty() {
        return Ok(());
    }
    let written = out.write_all(buffer).and_then(|()| out.flush());
    buffer.clear();
    written
}

/// Writes the waiting lines now.
pub(crate) fn flush() {
    let mut buffer = BUFFER.lock().unwrap_or_else(|e| e.into_inner());
    let _ = write_out(&mut buffer, std::io::stdout().lock());
}

/// Batches standard output while alive (held by `init()`'s guard): starts
/// the flusher thread; dropping it stops the thread, writes what waits and
/// turns batching off.
#[derive(Debug)]
pub(crate) struct Batching {
    stop: Arc<AtomicBool>,
    flusher: Option<JoinHandle<()>>,
}

impl Batching {
    /// Starts batching, unless standard output is a terminal (a person
    /// reads it as it comes) or the flusher thread cannot be started.
    pub(crate) fn start() -> Option<Batching> {
        use std::io::IsTerminal;
        if std::io::stdout().is_terminal() {
            return None;
        }
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let flusher = std::thread::Builder::new()
            .name("o11y-log-flush".into())
            .spawn(move || {
                while !stopped.load(Ordering::Relaxed) {
                    std::thread::park_timeout(FLUSH_EVERY);
                    flush();
                }
            })
            .ok()?;
        BATCHING.store(true, Ordering::Relaxed);
        Some(Batching {
            stop,
            flusher: Some(flusher),
        })
    }
}

impl Drop for Batching {
    fn drop(&mut self) {
        BATCHING.store(false, Ordering::Relaxed);
        self.stop.store(true, Ordering::Relaxed);
        if let Some(flusher) = self.flusher.take() {
            flusher.thread().unpark();
            let _ = flusher.join();
        }
        flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_wait_in_the_batch_until_it_is_written() {
        let (mut buffer, mut out) = (Vec::new(), Vec::new());
        append(&mut buffer, b"{\"event\":\"one\"}\n", false, || &mut out).unwrap();
        assert_eq!(buffer, b"{\"event\":\"one\"}\n");
        assert!(out.is_empty(), "nothing written yet");
        append(&mut buffer, b"{\"event\":\"two\"}\n", true, || &mut out).unwrap();
        assert!(buffer.is_empty(), "an urgent line writes the batch");
        assert_eq!(
            out, b"{\"event\":\"one\"}\n{\"event\":\"two\"}\n",
            "in order"
        );
        out.clear();
        let big = vec![b'x'; FLUSH_BYTES];
        append(&mut buffer, &big, false, || &mut out).unwrap();
        assert!(buffer.is_empty(), "a full batch is written");
        assert_eq!(out.len(), FLUSH_BYTES);
        assert!(buffer.capacity() >= FLUSH_BYTES, "its memory is kept");
    }
}
