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
//!
//! A batch is written outside the lock lines are added under: a thread
//! logging while another writes a batch copies its line and goes on. When
//! the buffer was locked during the write, the other tokio workers blocked
//! on it in the kernel at every batch (a futex wait and wake, a context
//! switch each).

use std::fs::File;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

/// A batch is written once it holds this much.
pub(crate) const FLUSH_BYTES: usize = 32 * 1024;

/// While a batch is being written, the next one grows up to this much
/// before a thread adding to it waits for the write.
const MAX_WAITING_BYTES: usize = 8 * FLUSH_BYTES;

/// The longest a line waits.
pub(crate) const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// The lines waiting for standard output. One per process, like it.
static STDOUT: Batch = Batch::new();

/// Standard output is batched: a guard with a flusher is alive, and
/// standard output is not a terminal.
static BATCHING: AtomicBool = AtomicBool::new(false);

/// Log files are batched: a guard with a flusher is alive.
static FILES_BATCHING: AtomicBool = AtomicBool::new(false);

/// The log files open, for the flusher and [`flush`].
static FILES: Mutex<Vec<Weak<FileSink>>> = Mutex::new(Vec::new());

/// The lines waiting for one destination, and the batch being written to
/// it.
struct Batch {
    /// Lines are added here; locked only for as long as a copy takes.
    waiting: Mutex<Vec<u8>>,
    /// Locked while a batch is written, so that batches go out one at a
    /// time and in the order they were taken. Between writes it holds the
    /// written buffer, cleared, whose memory the next batch reuses.
    writing: Mutex<Vec<u8>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A thread that panicked while logging leaves whole lines behind.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl Batch {
    const fn new() -> Self {
        Batch {
            waiting: Mutex::new(Vec::new()),
            writing: Mutex::new(Vec::new()),
        }
    }

    /// Adds `line`, and writes the waiting lines to `out` when they fill a
    /// batch or `urgent`. A full batch is left to grow while another is
    /// being written, up to [`MAX_WAITING_BYTES`]; an urgent line waits for
    /// that write, then goes out with everything before it.
    fn append<W: Write>(
        &self,
        line: &[u8],
        urgent: bool,
        out: impl FnOnce() -> W,
    ) -> std::io::Result<()> {
        let mut waiting = lock(&self.waiting);
        if waiting.capacity() == 0 {
            waiting.reserve(FLUSH_BYTES + 4096);
        }
        waiting.extend_from_slice(line);
        if !urgent && waiting.len() < FLUSH_BYTES {
            return Ok(());
        }
        let writing = if urgent || waiting.len() >= MAX_WAITING_BYTES {
            lock(&self.writing)
        } else {
            match self.writing.try_lock() {
                Ok(writing) => writing,
                Err(TryLockError::Poisoned(e)) => e.into_inner(),
                Err(TryLockError::WouldBlock) => return Ok(()),
            }
        };
        Self::write_taken(waiting, writing, out)
    }

    /// Writes what waits to `out` now.
    fn flush<W: Write>(&self, out: impl FnOnce() -> W) -> std::io::Result<()> {
        let waiting = lock(&self.waiting);
        if waiting.is_empty() {
            return Ok(());
        }
        Self::write_taken(waiting, lock(&self.writing), out)
    }

    /// Takes the waiting lines as the batch to write (locked in that order,
    /// so batches are written in the order they are taken), and writes them
    /// with only the writing lock held.
    fn write_taken<W: Write>(
        mut waiting: MutexGuard<'_, Vec<u8>>,
        mut writing: MutexGuard<'_, Vec<u8>>,
        out: impl FnOnce() -> W,
    ) -> std::io::Result<()> {
        std::mem::swap(&mut *waiting, &mut *writing);
        drop(waiting);
        write_out(&mut writing, out())
    }

    /// The lines still waiting, for a batch about to be dropped (a write
    /// leaves `writing` empty, failed or not).
    fn take_waiting(&mut self) -> Vec<u8> {
        std::mem::take(self.waiting.get_mut().unwrap_or_else(|e| e.into_inner()))
    }
}

/// A JSON log file and the lines waiting for it.
pub(crate) struct FileSink {
    file: File,
    batch: Batch,
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
            batch: Batch::new(),
        });
        let mut files = lock(&FILES);
        files.retain(|file| file.strong_count() > 0);
        files.push(Arc::downgrade(&sink));
        sink
    }

    /// Writes `line`: into the batch while batching is on (then the batch
    /// too, when it is full or `urgent`), else at once.
    pub(crate) fn write(&self, line: &[u8], urgent: bool) -> std::io::Result<()> {
        self.write_batched(line, urgent, FILES_BATCHING.load(Ordering::Relaxed))
    }

    /// [`FileSink::write`] with batching on or off. Through the batch
    /// either way: a line written at once never overtakes lines still
    /// waiting from when batching was on.
    fn write_batched(&self, line: &[u8], urgent: bool, batched: bool) -> std::io::Result<()> {
        self.batch.append(line, urgent || !batched, || &self.file)
    }

    fn flush(&self) -> std::io::Result<()> {
        self.batch.flush(|| &self.file)
    }
}

impl Drop for FileSink {
    /// The lines still waiting: the sink goes with its subscriber, which may
    /// be dropped before the guard (`with_default`, a `set_default` scope),
    /// and then no later flush can reach them.
    fn drop(&mut self) {
        let mut waiting = self.batch.take_waiting();
        // A log line that cannot be written has nowhere better to go.
        let _ = write_out(&mut waiting, &self.file);
    }
}

/// Writes `line` to standard output: into the batch while batching is on
/// (then the batch too, when it is full or `urgent`), else at once.
pub(crate) fn write_stdout(line: &[u8], urgent: bool) -> std::io::Result<()> {
    let batched = BATCHING.load(Ordering::Relaxed);
    // Through the batch either way, as for a file (`FileSink::write_batched`).
    STDOUT.append(line, urgent || !batched, || std::io::stdout().lock())
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
    let _ = STDOUT.flush(|| std::io::stdout().lock());
    let files: Vec<Arc<FileSink>> = lock(&FILES).iter().filter_map(Weak::upgrade).collect();
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
        let (batch, mut out) = (Batch::new(), Vec::new());
        let waiting = |batch: &Batch| lock(&batch.waiting).clone();
        batch
            .append(b"{\"event\":\"one\"}\n", false, || &mut out)
            .unwrap();
        assert_eq!(waiting(&batch), b"{\"event\":\"one\"}\n");
        assert!(out.is_empty(), "nothing written yet");
        batch
            .append(b"{\"event\":\"two\"}\n", true, || &mut out)
            .unwrap();
        assert!(
            waiting(&batch).is_empty(),
            "an urgent line writes the batch"
        );
        assert_eq!(
            out, b"{\"event\":\"one\"}\n{\"event\":\"two\"}\n",
            "in order"
        );
        out.clear();
        let big = vec![b'x'; FLUSH_BYTES];
        batch.append(&big, false, || &mut out).unwrap();
        assert!(waiting(&batch).is_empty(), "a full batch is written");
        assert_eq!(out.len(), FLUSH_BYTES);
        assert!(
            lock(&batch.writing).capacity() >= FLUSH_BYTES,
            "the written batch's memory is kept for the next"
        );
    }

    #[test]
    fn a_full_batch_waits_while_another_is_written_and_an_urgent_line_does_not() {
        let (batch, mut out) = (Batch::new(), Vec::new());
        let big = vec![b'x'; FLUSH_BYTES];
        {
            // Another thread is writing a batch.
            let _writing = lock(&batch.writing);
            batch.append(&big, false, || &mut out).unwrap();
            assert_eq!(lock(&batch.waiting).len(), FLUSH_BYTES, "left to grow");
        }
        assert!(out.is_empty(), "the logging thread did not wait to write");
        batch.append(b"warn\n", true, || &mut out).unwrap();
        assert_eq!(out.len(), FLUSH_BYTES + 5, "all of it, in order");
        assert!(out.ends_with(b"xwarn\n"));
        assert!(lock(&batch.waiting).is_empty());
    }

    #[test]
    fn lines_of_many_threads_are_written_whole_once_and_in_each_threads_order() {
        /// A destination shared by the threads, as standard output is.
        struct Shared<'a>(&'a Mutex<Vec<u8>>);
        impl Write for Shared<'_> {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                lock(self.0).extend_from_slice(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        const THREADS: usize = 4;
        const LINES: usize = 5_000;
        let (batch, out) = (Batch::new(), Mutex::new(Vec::new()));
        std::thread::scope(|scope| {
            for thread in 0..THREADS {
                let (batch, out) = (&batch, &out);
                scope.spawn(move || {
                    for n in 0..LINES {
                        let line = format!("{thread} {n:>60}\n");
                        let urgent = n % 997 == 0;
                        batch
                            .append(line.as_bytes(), urgent, || Shared(out))
                            .unwrap();
                    }
                });
            }
        });
        batch.flush(|| Shared(&out)).unwrap();
        let out = String::from_utf8(out.into_inner().unwrap()).unwrap();
        let mut next = [0; THREADS];
        for line in out.lines() {
            let (thread, n) = line.split_once(' ').unwrap();
            let thread: usize = thread.parse().unwrap();
            assert_eq!(n.trim().parse::<usize>().unwrap(), next[thread], "{line}");
            next[thread] += 1;
        }
        assert_eq!(next, [LINES; THREADS]);
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
