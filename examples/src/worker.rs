//! The quickstart's background work: each placed order becomes a
//! `process_order` task, carried in an `o11y::task::Envelope` (the trace of
//! the request that placed it travels with it) through a bounded in-process
//! queue to a worker task, off the request path.

use std::time::Duration;

use o11y::task::Envelope;
use serde::{Deserialize, Serialize};
use sqlx::sqlite::SqlitePool;
use tokio::sync::mpsc;

/// The payload of a `process_order` task.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrderJob {
    /// The order to process.
    pub order_id: i64,
}

/// The task's name: its span is `process process_order`, its metrics
/// `task_runs_total{task="process_order"}`.
pub const TASK: &str = "process_order";

/// Hands placed orders to the worker.
#[derive(Clone, Debug)]
pub struct Confirmations {
    queue: mpsc::Sender<Envelope<OrderJob>>,
}

/// Orders waiting beyond this many make `enqueue` refuse new ones (logged):
/// a bounded queue, never unbounded memory.
const QUEUE: usize = 1_024;

impl Confirmations {
    /// Starts the worker on the current tokio runtime. It stops once every
    /// `Confirmations` is dropped and the queue is drained.
    pub fn start(db: SqlitePool) -> (Confirmations, tokio::task::JoinHandle<()>) {
        let (queue, mut jobs) = mpsc::channel(QUEUE);
        let worker = tokio::spawn(async move {
            while let Some(job) = jobs.recv().await {
                // The outcome is recorded by #[task_traced]; the worker goes on.
                let _ = process_order(job, &db).await;
            }
        });
        (Confirmations { queue }, worker)
    }

    /// Queues `order_id` for processing. Called inside the request, the
    /// envelope carries the request's trace: the task's span continues it.
    pub fn enqueue(&self, order_id: i64) {
        let job = Envelope::builder(TASK, OrderJob { order_id })
            .system("tokio")
            .destination("orders")
            .build();
        if let Err(error) = self.queue.try_send(job) {
            tracing::warn!(order_id, %error, "order not queued for processing");
        }
    }
}

/// The background job: checks the payment (a short wait here) and marks the
/// order confirmed.
#[o11y::task_traced(fields(order_id = job.payload.order_id), err)]
async fn process_order(job: Envelope<OrderJob>, db: &SqlitePool) -> Result<(), sqlx::Error> {
    tokio::time::sleep(Duration::from_millis(20)).await;
    if crate::store::confirm(db, job.payload.order_id).await? {
        tracing::info!("order confirmed");
    } else {
        tracing::warn!("order was not pending: not confirmed");
    }
    Ok(())
}
