//! Background tasks: the trace envelope a producer puts on a queue, W3C
//! context injection into / extraction from a message's headers, and the
//! lifecycle of a task run (what `#[task_traced]` calls).
//!
//! One trace spans request → queue → worker: [`Envelope::new`] (inside the
//! request's span) opens a PRODUCER span `publish <task>` and captures its
//! `traceparent`; the worker's `#[task_traced]` function opens a CONSUMER
//! span `process <task>` whose parent is that producer span, even in another
//! process, with the same `messaging.system` and
//! `messaging.destination.name`.
//!
//! | file | owns |
//! |---|---|
//! | `context` | [`TraceContext`] (its `traceparent` read and written by `trace::w3c`), [`TaskContext`] (with the messaging system and destination the task was published to) |
//! | `carrier` | the [`Carrier`] trait over header maps, [`inject`] / [`extract`] |
//! | `envelope` | [`Envelope`], its builder and the producer span |
//! | `error` | [`TaskError`]: why a run failed, read from its returned value |
//! | `metrics` | the `task_*` metric statics |
//! | `run` | a task run: consumer span, lifecycle events, metrics, [`retry`], outcome through a drop guard |
//! | `shutdown` | [`shutdown`]: the worker's bounded flush |
//!
//! ```
//! use o11y_runtime::task::Envelope;
//!
//! #[derive(serde::Serialize, serde::Deserialize)]
//! struct OrderJob { order_id: u64 }
//!
//! // Producer: inside the request's span, the envelope carries its trace.
//! let envelope = Envelope::new("process_order", OrderJob { order_id: 7 });
//! let json = serde_json::to_string(&envelope).unwrap(); // LPUSH it, send it, ...
//!
//! // Worker: the same envelope back, ready for a `#[task_traced]` function.
//! let received: Envelope<OrderJob> = serde_json::from_str(&json).unwrap();
//! assert_eq!(received.payload.order_id, 7);
//! assert_eq!(received.task_name, "process_order");
//! ```

mod carrier;
mod context;
mod envelope;
mod error;
mod metrics;
mod run;
mod shutdown;

#[cfg(test)]
mod hostile_tests;

pub use carrier::{Carrier, extract, inject};
pub use context::{TaskContext, TraceContext};
pub use envelope::{Envelope, EnvelopeBuilder};
pub use error::TaskError;
#[doc(hidden)]
pub use error::{ErrorMessage, HasMessage, NoMessage, task_error};
pub use run::{TaskRun, TaskSite, retry};
pub use shutdown::{DEFAULT_SHUTDOWN_TIMEOUT, shutdown, shutdown_timeout};
