// A labelled series' handle is kept and reused (recording through it is
// one atomic operation), stored in a struct and shared across threads.
#![deny(warnings)]

use std::sync::OnceLock;

use o11y::metric;
use o11y::metrics::{CounterHandle, HistogramHandle};

#[metric(counter, help = "Jobs processed", labels(queue))]
static JOBS: o11y::Counter;

#[metric(histogram, help = "Job duration", unit = "seconds", labels(queue))]
static JOB_DURATION_SECONDS: o11y::Histogram;

struct Worker {
    processed: CounterHandle,
    duration: HistogramHandle,
}

static EMAILS: OnceLock<CounterHandle> = OnceLock::new();

fn main() {
    let worker = Worker {
        processed: JOBS.labels("default"),
        duration: JOB_DURATION_SECONDS.labels("default"),
    };
    for _ in 0..3 {
        worker.processed.inc();
        worker.duration.observe(0.01);
    }
    let emails = EMAILS.get_or_init(|| JOBS.labels("emails"));
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| emails.inc());
        }
    });
    assert_eq!(JOBS.labels("default").get(), 3);
    assert_eq!(JOBS.labels("emails").get(), 4);
    assert_eq!(JOBS.series_count(), 2);
}
