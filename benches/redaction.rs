//! What redaction adds to a text value that holds no secret, in one run:
//! a span recorded with one text field (its name decided once per
//! callsite, its text scanned on the export thread) and a JSON log line
//! with one text field (name and text both checked on the caller's thread,
//! before the line is written), through the prod profile's subscriber with
//! every span recorded into an in-process sink.
//!
//! `BENCH_REDACTION=off` runs the same cases with `redaction.enabled =
//! false`; the figures in `benches/README.md` compare the two, and the
//! binary of the commit before redaction, run alternately.
//!
//! Standard output takes the log lines: redirect it.
//!
//! ```text
//! cargo bench --bench redaction -- --warm-up-time 1 --measurement-time 3 > /dev/null
//! ```
//!
//! With `REDACTION_CASE=<case>` the binary instead runs that case 1,000
//! times, then `REDACTION_ITERATIONS` times (10,000 by default) through
//! `one_iteration`, and flushes, for counting instructions, which unlike
//! time are the same from run to run (and are what a 20 ns bar needs on a
//! shared machine): on the caller's thread with
//!
//! ```text
//! REDACTION_CASE=span_text_field valgrind --tool=callgrind --toggle-collect='*one_iteration*' \
//!     target/release/deps/redaction-<hash> > /dev/null
//! ```
//!
//! and on every thread, the export thread's in its own file, with
//! `--separate-threads=yes` instead of `--toggle-collect`. Run directly,
//! the mode also prints the CPU time per iteration of the caller's thread
//! and of every thread (the export thread's work included), from the
//! kernel's per-thread accounting (`/proc/self/task/*/schedstat`): unlike
//! wall time, it leaves out the time other processes had the core.

use std::hint::black_box;

// Only the o11y dispatcher is used here.
#[allow(dead_code)]
mod common;

use common::{o11y_dispatch_of, prod_config};
use criterion::{Criterion, criterion_group};

/// A text of the length of a real field (an address, a note) with no
/// byte any pattern looks for: one pass over it.
const PLAIN: &str = "order shipped to the north warehouse, dock 3";
/// As long, with no secret either, but with what starts a pattern's mark
/// (a `B`, a `-`) and digits: the pass, then a look at each of those.
const MARKED: &str = "Bestellung 4711-B: 12 Kartons an Lager Nord, Rampe 3";

/// The cases, by name.
const CASES: [(&str, fn()); 4] = [
    ("span_text_field", || {
        drop(tracing::info_span!("load", note = black_box(PLAIN)))
    }),
    ("span_marked_text_field", || {
        drop(tracing::info_span!("load", note = black_box(MARKED)))
    }),
    ("log_text_field", || {
        tracing::info!(note = black_box(PLAIN), "order shipped")
    }),
    ("log_marked_text_field", || {
        tracing::info!(note = black_box(MARKED), "order shipped")
    }),
];

/// The subscriber of the prod profile, every span recorded, redaction on
/// unless `BENCH_REDACTION=off`.
fn dispatch() -> (tracing::Dispatch, o11y::Guard) {
    let mut config = prod_config().sample_rate(1.0);
    if std::env::var("BENCH_REDACTION").as_deref() == Ok("off") {
        config = config.redaction_enabled(false);
    }
    o11y_dispatch_of(config)
}

fn redaction(c: &mut Criterion) {
    let (dispatch, guard) = dispatch();
    let mut group = c.benchmark_group("redaction");
    tracing::dispatcher::with_default(&dispatch, || {
        for (name, case) in CASES {
            group.bench_function(name, |b| b.iter(case));
        }
    });
    group.finish();
    drop(guard);
}

#[inline(never)]
fn one_iteration(case: fn()) {
    case();
}

/// The `REDACTION_CASE` mode; see the module documentation.
fn count_iterations(wanted: &str) {
    let iterations: usize = std::env::var("REDACTION_ITERATIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    let Some((_, case)) = CASES.into_iter().find(|(name, _)| *name == wanted) else {
        panic!("REDACTION_CASE={wanted:?} is not a case of this benchmark");
    };
    let (dispatch, guard) = dispatch();
    let (mut caller, mut all) = (0, 0);
    tracing::dispatcher::with_default(&dispatch, || {
        for _ in 0..1_000 {
            case();
        }
        assert!(guard.flush(), "the warm-up exported");
        caller = cpu_nanos("/proc/thread-self/schedstat");
        all = all_threads_cpu_nanos();
        for _ in 0..iterations {
            one_iteration(case);
        }
        caller = cpu_nanos("/proc/thread-self/schedstat") - caller;
    });
    assert!(guard.flush(), "everything exported");
    all = all_threads_cpu_nanos() - all;
    let per = |nanos: u64| nanos as f64 / iterations as f64;
    eprintln!(
        "{wanted}: {:.1} ns of CPU per iteration on the caller's thread, {:.1} ns on all threads",
        per(caller),
        per(all)
    );
}

/// The CPU time a thread ran, from the first field of its `schedstat`
/// (nanoseconds on the CPU); 0 where the kernel does not say.
fn cpu_nanos(schedstat: &str) -> u64 {
    std::fs::read_to_string(schedstat)
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// The CPU time every thread of the process ran so far (threads that
/// ended are not counted: the export thread lives as long as the guard).
fn all_threads_cpu_nanos() -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .filter_map(Result::ok)
        .map(|task| cpu_nanos(&format!("{}/schedstat", task.path().display())))
        .sum()
}

criterion_group!(benches, redaction);

fn main() {
    match std::env::var("REDACTION_CASE") {
        Ok(case) => count_iterations(&case),
        Err(_) => {
            benches();
            Criterion::default().configure_from_args().final_summary();
        }
    }
}
