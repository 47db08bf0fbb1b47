//! The quickstart's background work: the `process_order` task (its payload
//! and the one `#[task_traced]` function that runs it) and [`RedisWorker`],
//! the loop of `cargo run --example worker` that pops its envelopes from
//! the Redis list. Each placed order becomes a task carried in an
//! `o11y::task::Envelope`: the trace of the request that placed it travels
//! with it, to a worker task in the quickstart's process or to the worker
//! process (see [`crate::queue`]).

use std::time::Duration;

use o11y::task::Envelope;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use sqlx::sqlite::SqlitePool;
use tokio::sync::watch;

use crate::orders::{Money, Order};
use crate::queue::{REDIS_LIST, RedisUnavailable, connect};

/// The task's name: its spans are `publish process_order` and `process
/// process_order`, its metrics `task_runs_total{task="process_order"}`.
pub const TASK: &str = "process_order";

/// The payload of a `process_order` task: all a worker needs, so that one
/// in another process, without the quickstart's in-memory database, can
/// check the payment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderJob {
    /// The order to process.
    pub order_id: i64,
    /// Who placed it.
    pub customer: String,
    /// What to charge.
    pub total: Money,
    /// How many lines the order has.
    pub items: usize,
}

impl OrderJob {
    /// The task for a just-placed `order`.
    pub fn for_order(order: &Order) -> OrderJob {
        OrderJob {
            order_id: order.id,
            customer: order.customer.clone(),
            total: order.total,
            items: order.items.len(),
        }
    }
}

/// The background job: checks the payment (a short wait here), then
/// confirms the order: in `db` when it runs in the quickstart's process;
/// a worker process has no access to that in-memory database and logs the
/// confirmation only.
#[o11y::task_traced(fields(order_id = job.payload.order_id), err)]
pub async fn process_order(
    job: Envelope<OrderJob>,
    db: Option<&SqlitePool>,
) -> Result<(), sqlx::Error> {
    tokio::time::sleep(Duration::from_millis(20)).await;
    let OrderJob {
        order_id,
        customer,
        total,
        ..
    } = &job.payload;
    if let Some(db) = db
        && !crate::store::confirm(db, *order_id).await?
    {
        tracing::warn!(order_id, "order was not pending: not confirmed");
        return Ok(());
    }
    tracing::info!(order_id, %customer, %total, "order confirmed");
    Ok(())
}

/// How long one `BRPOP` waits for a task before the worker looks whether it
/// should stop: the longest a stop waits while the list is empty.
pub const POP_TIMEOUT: Duration = Duration::from_secs(1);

/// Pops `process_order` envelopes from [`REDIS_LIST`] and runs them, one at
/// a time, in this process.
pub struct RedisWorker {
    connection: ConnectionManager,
}

impl RedisWorker {
    /// Connects to `url`; fails at once when Redis does not answer.
    pub async fn connect(url: &str) -> Result<RedisWorker, RedisUnavailable> {
        // BRPOP holds its reply back for up to POP_TIMEOUT.
        let connection = connect(url, POP_TIMEOUT + Duration::from_secs(5)).await?;
        Ok(RedisWorker { connection })
    }

    /// Runs tasks until `stop` holds `true`. A popped task always runs to
    /// its end first: only the wait for the next one is cut short.
    pub async fn run(mut self, mut stop: watch::Receiver<bool>) {
        while !*stop.borrow() {
            // Bytes, not `String`: an entry that is not UTF-8 is a malformed
            // envelope to skip, not a failed pop.
            let popped: redis::RedisResult<Option<(String, Vec<u8>)>> = self
                .connection
                .brpop(REDIS_LIST, POP_TIMEOUT.as_secs_f64())
                .await;
            match popped {
                Ok(Some((_list, envelope))) => run_envelope(&envelope).await,
                Ok(None) => {} // nothing within POP_TIMEOUT: look at `stop` again
                Err(error) => {
                    // The connection manager reconnects on the next command;
                    // waiting a little keeps a Redis outage from spinning.
                    tracing::warn!(list = REDIS_LIST, %error, "cannot pop tasks from Redis, retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(POP_TIMEOUT) => {}
                        _ = stop.changed() => {}
                    }
                }
            }
        }
    }
}

/// Runs one popped envelope. A malformed one is logged and skipped; a
/// panicking task is recorded (by `#[task_traced]`) and the worker goes on.
async fn run_envelope(envelope: &[u8]) {
    let job: Envelope<OrderJob> = match serde_json::from_slice(envelope) {
        Ok(job) => job,
        Err(error) => {
            let shown: String = String::from_utf8_lossy(envelope)
                .chars()
                .take(200)
                .collect();
            tracing::warn!(list = REDIS_LIST, %error, envelope = %shown, "malformed envelope skipped");
            return;
        }
    };
    // On a task of its own, so that a panic ends the task, not the worker.
    // The outcome is recorded by #[task_traced].
    if let Err(error) = tokio::spawn(process_order(job, None)).await {
        tracing::error!(%error, "process_order did not complete");
    }
}
