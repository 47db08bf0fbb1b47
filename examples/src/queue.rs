//! Where the quickstart puts its `process_order` tasks: [`Confirmations`],
//! either a bounded in-process channel drained by a worker task (the
//! default: no server needed) or, with `REDIS_URL` set, the Redis list
//! [`REDIS_LIST`], which `cargo run --example worker` pops in a process of
//! its own. Also the Redis connection both sides open.

use std::time::Duration;

use o11y::task::Envelope;
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use sqlx::sqlite::SqlitePool;
use tokio::sync::mpsc;

use crate::orders::Order;
use crate::worker::{OrderJob, TASK, process_order};

/// The environment variable naming the Redis server; unset, tasks stay in
/// process.
pub const REDIS_URL_VAR: &str = "REDIS_URL";

/// The Redis list the quickstart pushes envelopes onto (`LPUSH`) and the
/// worker pops them from (`BRPOP`): first in, first out.
pub const REDIS_LIST: &str = "o11y:quickstart:orders";

/// In process, orders waiting beyond this many make `reserve` refuse new
/// ones (the request answers 503): a bounded queue, never unbounded memory.
const IN_PROCESS_CAPACITY: usize = 1_024;

/// Hands placed orders to a worker: in process or through Redis.
#[derive(Clone, Debug)]
pub struct Confirmations {
    sink: Sink,
}

#[derive(Clone)]
enum Sink {
    InProcess(mpsc::Sender<Envelope<OrderJob>>),
    Redis {
        connection: ConnectionManager,
        /// As shown: without its password.
        url: String,
    },
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Sink::InProcess(_) => f.write_str("InProcess"),
            Sink::Redis { url, .. } => f.debug_struct("Redis").field("url", url).finish(),
        }
    }
}

/// Redis could not be reached or refused a command at start.
#[derive(Debug)]
pub struct RedisUnavailable {
    /// The URL tried, without its password.
    pub url: String,
    /// What the client reported.
    pub source: redis::RedisError,
}

impl std::fmt::Display for RedisUnavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cannot use Redis at {REDIS_URL_VAR}={}: {} (is redis-server running? \
             unset {REDIS_URL_VAR} to keep the tasks in process)",
            self.url, self.source
        )
    }
}

impl std::error::Error for RedisUnavailable {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

impl Confirmations {
    /// The default: a channel, and a worker task on the current tokio
    /// runtime that confirms each order in `db`. The worker stops once
    /// every `Confirmations` is dropped and the channel is drained.
    pub fn in_process(db: SqlitePool) -> (Confirmations, tokio::task::JoinHandle<()>) {
        let (queue, mut jobs) = mpsc::channel(IN_PROCESS_CAPACITY);
        let worker = tokio::spawn(async move {
            while let Some(job) = jobs.recv().await {
                // The outcome is recorded by #[task_traced]; the worker goes on.
                let _ = process_order(job, Some(&db)).await;
            }
        });
        let sink = Sink::InProcess(queue);
        (Confirmations { sink }, worker)
    }

    /// Tasks pushed onto [`REDIS_LIST`] at `url`, for `--example worker`.
    /// Fails at once when Redis does not answer a `PING`.
    pub async fn redis(url: &str) -> Result<Confirmations, RedisUnavailable> {
        let connection = connect(url, Duration::from_secs(2)).await?;
        let url = redacted(url);
        let sink = Sink::Redis { connection, url };
        Ok(Confirmations { sink })
    }

    /// Redis when `REDIS_URL` is set, else in process (with the worker
    /// task's handle).
    pub async fn from_env(
        db: SqlitePool,
    ) -> Result<(Confirmations, Option<tokio::task::JoinHandle<()>>), RedisUnavailable> {
        match std::env::var(REDIS_URL_VAR) {
            Ok(url) if !url.is_empty() => Ok((Confirmations::redis(&url).await?, None)),
            _ => {
                let (confirmations, worker) = Confirmations::in_process(db);
                Ok((confirmations, Some(worker)))
            }
        }
    }

    /// Where the tasks go, for the quickstart's banner.
    pub fn describe(&self) -> String {
        match &self.sink {
            Sink::InProcess(_) => format!(
                "in process (a tokio channel and a worker task); set \
                 {REDIS_URL_VAR}=redis://127.0.0.1:6379 to hand them to `cargo run --example worker`"
            ),
            Sink::Redis { url, .. } => format!(
                "Redis list {REDIS_LIST} at {url}; run `{REDIS_URL_VAR}={url} cargo run \
                 --example worker` to process them"
            ),
        }
    }

    /// Tasks waiting in the in-process queue (none are counted for Redis,
    /// whose list the worker process drains).
    pub fn waiting(&self) -> usize {
        match &self.sink {
            Sink::InProcess(queue) => queue.max_capacity() - queue.capacity(),
            Sink::Redis { .. } => 0,
        }
    }

    /// Room for one task, taken before the order is stored: `None` when the
    /// in-process queue is full (or its worker gone), so that the request
    /// is refused rather than an order stored and left pending for good.
    pub fn reserve(&self) -> Option<Slot<'_>> {
        let place = match &self.sink {
            Sink::InProcess(queue) => Place::InProcess(queue.try_reserve().ok()?),
            Sink::Redis { connection, url } => Place::Redis { connection, url },
        };
        Some(Slot(place))
    }
}

/// Room for one task in [`Confirmations`], from [`Confirmations::reserve`].
pub struct Slot<'a>(Place<'a>);

enum Place<'a> {
    InProcess(mpsc::Permit<'a, Envelope<OrderJob>>),
    Redis {
        connection: &'a ConnectionManager,
        url: &'a str,
    },
}

impl Slot<'_> {
    /// Queues `order` for processing. Called inside the request, the
    /// envelope carries the request's trace: the task's span continues it.
    /// A failed push to Redis is logged; the request goes on.
    pub async fn enqueue(self, order: &Order) {
        let payload = OrderJob::for_order(order);
        match self.0 {
            Place::InProcess(permit) => {
                let job = Envelope::builder(TASK, payload)
                    .system("tokio")
                    .destination("orders")
                    .build();
                permit.send(job);
            }
            Place::Redis { connection, url } => {
                let job = Envelope::builder(TASK, payload)
                    .system("redis")
                    .destination(REDIS_LIST)
                    .build();
                let json = match serde_json::to_string(&job) {
                    Ok(json) => json,
                    Err(error) => {
                        tracing::warn!(order_id = order.id, %error, "order not queued for processing");
                        return;
                    }
                };
                // A clone shares the connection; LPUSH needs it mutably.
                let mut connection = connection.clone();
                let pushed: redis::RedisResult<usize> = connection.lpush(REDIS_LIST, json).await;
                if let Err(error) = pushed {
                    tracing::warn!(
                        order_id = order.id, redis = %url, list = REDIS_LIST, %error,
                        "order not queued for processing"
                    );
                }
            }
        }
    }
}

/// A connection to `url` that reconnects after Redis restarts, checked
/// with a `PING`. `response_timeout` bounds each command's wait for its
/// reply: a blocking `BRPOP` needs more than its own timeout.
pub async fn connect(
    url: &str,
    response_timeout: Duration,
) -> Result<ConnectionManager, RedisUnavailable> {
    let unavailable = |source| RedisUnavailable {
        url: redacted(url),
        source,
    };
    let client = redis::Client::open(url).map_err(unavailable)?;
    // One retry, not the default six with backoff: an unreachable server is
    // reported within seconds at start.
    let config = ConnectionManagerConfig::new()
        .set_number_of_retries(1)
        .set_connection_timeout(Some(Duration::from_secs(2)))
        .set_response_timeout(Some(response_timeout));
    let mut connection = ConnectionManager::new_with_config(client, config)
        .await
        .map_err(unavailable)?;
    let _: String = redis::cmd("PING")
        .query_async(&mut connection)
        .await
        .map_err(unavailable)?;
    Ok(connection)
}

/// `url` without the password it may carry (`redis://:secret@host` →
/// `redis://:***@host`), to print and log.
pub fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.rsplit_once('@') {
        Some((credentials, host)) => {
            let user = credentials.split_once(':').map_or("", |(user, _)| user);
            format!("{scheme}://{user}:***@{host}")
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn a_password_in_the_url_is_not_shown() {
        assert_eq!(redacted("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
        assert_eq!(
            redacted("redis://:hunter2@cache:6379/0"),
            "redis://:***@cache:6379/0"
        );
        assert_eq!(
            redacted("rediss://app:hunter2@cache:6380"),
            "rediss://app:***@cache:6380"
        );
    }
}
