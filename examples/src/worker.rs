//! The quickstart's background work: placed orders are confirmed by a
//! worker task, off the request path, the way a payment check would be.

use std::time::Duration;

use sqlx::sqlite::SqlitePool;
use tokio::sync::mpsc;

/// Hands placed orders to the worker.
#[derive(Clone, Debug)]
pub struct Confirmations {
    queue: mpsc::Sender<i64>,
}

/// Orders waiting beyond this many make `enqueue` refuse new ones (logged):
/// a bounded queue, never unbounded memory.
const QUEUE: usize = 1_024;

impl Confirmations {
    /// Starts the worker on the current tokio runtime. It stops once every
    /// `Confirmations` is dropped and the queue is drained.
    pub fn start(db: SqlitePool) -> (Confirmations, tokio::task::JoinHandle<()>) {
        let (queue, mut orders) = mpsc::channel(QUEUE);
        let worker = tokio::spawn(async move {
            while let Some(order_id) = orders.recv().await {
                // The error is recorded by #[observe(err)]; the worker goes on.
                let _ = confirm_order(&db, order_id).await;
            }
        });
        (Confirmations { queue }, worker)
    }

    /// Queues `order_id` for confirmation.
    pub fn enqueue(&self, order_id: i64) {
        if let Err(error) = self.queue.try_send(order_id) {
            tracing::warn!(order_id, %error, "order not queued for confirmation");
        }
    }
}

/// The background job: checks the payment (a short wait here) and marks the
/// order confirmed.
#[o11y::observe(args(order_id), err)]
async fn confirm_order(db: &SqlitePool, order_id: i64) -> Result<(), sqlx::Error> {
    tokio::time::sleep(Duration::from_millis(20)).await;
    if crate::store::confirm(db, order_id).await? {
        tracing::info!("order confirmed");
    } else {
        tracing::warn!("order was not pending: not confirmed");
    }
    Ok(())
}
