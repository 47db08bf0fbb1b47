//! Log lines for a standard output that is not a terminal (a file, a pipe
//! to a log shipper) and for the JSON log file (`logging.file_enabled`),
//! written in batches: lines collect in a buffer per destination that goes
//! out in one `write` when [`FLUSH_BYTES`] are waiting, when a warning or
//! an error is logged, every [`FLUSH_EVERY`] (a flusher thread), and when
//! o11y is flushed (`o11y::flush`, `Guard::flush`) or its guard dropped.
//!
//! A service that logs a line per request then pays a copy per line rather
//! than a system call per line (about 1.5 µs on a 2-core VM, a sixth of
//! what a small axum request costs). The price: when the process dies
//! without dropping `init()`'s guard (`kill -9`, `std::process::exit`), the
//! `info` lines of its last [`FLUSH_EVERY`] are lost. Lines on a terminal
//! are written at once, and so is everything once the guard is dropped.

use std::fs::File;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

/// A batch is written once it holds this much.
pub(crate) const FLUSH_BYTES: usize = 32 * 1024;

/// The longest a line waits.
pub(crate) const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// The lines waiting. One per process, like standard output.
static BUFFER: Mutex<Vec<u8>> = Mutex::new(Vec::new());

/// Standard output is batched: a guard with a flusher is alive, and
/// standard output is not a terminal.
static BATCHING: AtomicBool = AtomicBool::new(false);

/// Log files are batched: a guard with a flusher is alive.
static FILES_BATCHING: AtomicBool = AtomicBool::new(false);

/// The log files open, for the flusher and [`flush`].
static FILES: Mutex<Vec<Weak<FileSink>>> = Mutex::new(Vec::new());

/// A JSON log file and the lines waiting for it.
pub(crate) struct FileSink {
    file: File,
    buffer: Mutex<Vec<u8>>,
}

impl std::fmt::Debug for FileSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileSink")
            .field("file", &self.file)
            .finish_non_exhaustive()
    }
}

impl FileSink {
    /// Writes to `file` (opened for append), batched while a guard lives.
    pub(crate) fn new(file: File) -> Arc<FileSink> {
        let sink = Arc::new(FileSink {
            file,
            buffer: Mutex::new(Vec::new()),
        });
        let mut files = FILES.lock().unwrap_or_else(|e| e.into_inner());
        files.retain(|file| file.strong_count() > 0);
        files.push(Arc::downgrade(&sink));
        sink
    }

    /// Writes `line`: into the batch while batching is on (then the batch
    /// too, when it is full or `urgent`), else at once.
    pub(crate) fn write(&self, line: &[u8], urgent: bool) -> std::io::Result<()> {
        self.write_batched(line, urgent, FILES_BATCHING.load(Ordering::Relaxed))
    }

    /// [`FileSink::write`] with batching on or off. Through the buffer
    /// either way: a line written at once never overtakes lines still
    /// waiting from when batching was on.
    fn write_batched(&self, line: &[u8], urgent: bool, batched: bool) -> std::io::Result<()> {
        let mut buffer = self.buffer.lock().unwrap_or_else(|e| e.into_inner());
        append(&mut buffer, line, urgent || !batched, || &self.file)
    }

    fn flush(&self) -> std::io::Result<()> {
        let mut buffer = self.buffer.lock().unwrap_or_else(|e| e.into_inner());
        write_out(&mut buffer, &self.file)
    }
}

impl Drop for FileSink {
    /// The lines still waiting: the sink goes with its subscriber, which may
    /// be dropped before the guard (`with_default`, a `set_default` scope),
    /// and then no later flush can reach them.
    fn drop(&mut self) {
        let buffer = self.buffer.get_mut().unwrap_or_else(|e| e.into_inner());
        // A log line that cannot be written has nowhere better to go.
        let _ = write_out(buffer, &self.file);
    }
}

/// Writes `line` to standard output: into the batch while batching is on
/// (then the batch too, when it is full or `urgent`), else at once.
pub(crate) fn write_stdout(line: &[u8], urgent: bool) -> std::io::Result<()> {
    let batched = BATCHING.load(Ordering::Relaxed);
    let mut buffer = BUFFER.lock().unwrap_or_else(|e| e.into_inner());
    // Through the buffer either way, as for a file (`FileSink::write_batched`).
    append(&mut buffer, line, urgent || !batched, || {
        std::io::stdout().lock()
    })
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

/// Writes the waiting lines now, to standard output and to every log file.
pub(crate) fn flush() {
    let mut buffer = BUFFER.lock().unwrap_or_else(|e| e.into_inner());
    let _ = write_out(&mut buffer, std::io::stdout().lock());
    drop(buffer);
    let files: Vec<Arc<FileSink>> = FILES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .filter_map(Weak::upgrade)
        .collect();
    for file in files {
        // A log line that cannot be written has nowhere better to go.
        let _ = file.flush();
    }
}

/// Batches log lines while alive (held by `init()`'s guard): starts the
/// flusher thread; dropping it stops the thread, writes what waits and
/// turns batching off.
#[derive(Debug)]
pub(crate) struct Batching {
    stop: Arc<AtomicBool>,
    flusher: Option<JoinHandle<()>>,
}

impl Batching {
    /// Starts batching standard output, unless it is a terminal (a person
    /// reads it as it comes), and the log file when there is one (`files`);
    /// nothing when neither applies or the flusher thread cannot be
    /// started.
    pub(crate) fn start(files: bool) -> Option<Batching> {
        use std::io::IsTerminal;
        let stdout = !std::io::stdout().is_terminal();
        if !stdout && !files {
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
        BATCHING.store(stdout, Ordering::Relaxed);
        FILES_BATCHING.store(files, Ordering::Relaxed);
        Some(Batching {
            stop,
            flusher: Some(flusher),
        })
    }
}

impl Drop for Batching {
    fn drop(&mut self) {
        BATCHING.store(false, Ordering::Relaxed);
        FILES_BATCHING.store(false, Ordering::Relaxed);
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

    #[test]
    fn a_log_file_gets_its_lines_in_batches_and_in_order() {
        let path = std::env::temp_dir().join(format!("o11y-batch-{}.log", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let open = || {
            File::options()
                .create(true)
                .append(true)
                .open(&path)
                .unwrap()
        };
        let sink = FileSink::new(open());
        let on_disk = || std::fs::read_to_string(&path).unwrap();

        sink.write_batched(b"one\n", false, true).unwrap();
        assert_eq!(on_disk(), "", "waits in the batch");
        sink.write_batched(b"two\n", true, true).unwrap();
        assert_eq!(on_disk(), "one\ntwo\n", "an urgent line writes the batch");

        sink.write_batched(b"three\n", false, true).unwrap();
        flush();
        assert_eq!(on_disk(), "one\ntwo\nthree\n", "flush() reaches the file");

        sink.write_batched(b"four\n", false, true).unwrap();
        sink.write_batched(b"five\n", false, false).unwrap();
        assert_eq!(
            on_disk(),
            "one\ntwo\nthree\nfour\nfive\n",
            "unbatched: at once, after what waited"
        );
        sink.write_batched(b"six\n", false, true).unwrap();
        drop(sink);
        assert_eq!(
            on_disk(),
            "one\ntwo\nthree\nfour\nfive\nsix\n",
            "a sink dropped writes what waits"
        );
        std::fs::remove_file(&path).unwrap();
    }
}
