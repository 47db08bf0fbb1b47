//! The task metrics, registered at link time so that `/metrics` lists them
//! before the first task runs. None links an exemplar: o11y records them
//! with plain calls where a run starts or ends, and the span current there
//! is not necessarily the run's (`MetricDesc::exemplars`).

use crate::metrics::register_own_metric;
use crate::metrics::{CounterVec, GaugeVec, HistogramVec, MetricDesc};

/// `task_published_total{task}`: envelopes created.
pub(super) static PUBLISHED: CounterVec<1> = CounterVec::new(
    MetricDesc::counter(
        "task_published_total",
        "Tasks published (envelopes created)",
    )
    .labels(&["task"])
    .exemplars(false),
);
/// `task_runs_total{task,outcome}`.
pub(super) static RUNS: CounterVec<2> = CounterVec::new(
    MetricDesc::counter(
        "task_runs_total",
        "Task runs, by outcome (succeeded, failed, retried, panicked, cancelled)",
    )
    .labels(&["task", "outcome"])
    .exemplars(false),
);
/// `task_duration_seconds{task}`.
pub(super) static DURATION: HistogramVec<1> = HistogramVec::new(
    MetricDesc::histogram("task_duration_seconds", "Duration of task runs")
        .unit("seconds")
        .labels(&["task"])
        .exemplars(false),
);
/// `task_queue_wait_seconds{task}`: start of the run − enqueue time.
pub(super) static QUEUE_WAIT: HistogramVec<1> = HistogramVec::new(
    MetricDesc::histogram(
        "task_queue_wait_seconds",
        "Time tasks waited in the queue before a worker started them",
    )
    .unit("seconds")
    .labels(&["task"])
    .exemplars(false),
);
/// `task_in_progress{task}`.
pub(super) static IN_PROGRESS: GaugeVec<1> =
    GaugeVec::new(MetricDesc::gauge("task_in_progress", "Task runs in progress").labels(&["task"]));
register_own_metric!(PUBLISHED);
register_own_metric!(RUNS);
register_own_metric!(DURATION);
register_own_metric!(QUEUE_WAIT);
register_own_metric!(IN_PROGRESS);
