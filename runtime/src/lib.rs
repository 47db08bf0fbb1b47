//! The runtime of [o11y](https://docs.rs/o11y): configuration, the span
//! pipeline, log lines and exporters. Use it through the `o11y` crate,
//! which re-exports everything public here next to the attribute macros.
//!
//! One call wires it all:
//!
//! ```no_run
//! fn main() -> Result<(), o11y_runtime::Error> {
//!     let _o11y = o11y_runtime::init()?; // flushes and stops exporters when dropped
//!     tracing::info!(order_id = 7, "order placed");
//!     Ok(())
//! }
//! ```
//!
//! # Layers
//!
//! The modules form layers with one direction: a module refers only to
//! modules of lower layers. Where a lower layer needs something only a
//! higher one knows (where spans live, say), the higher one hands it down:
//! a hook it registers, or an argument. `tests/layers.rs` reads this table
//! and fails on any upward reference, naming the file, the line and the
//! arrow.
//!
//! | layer | modules | what they own |
//! |---|---|---|
//! | 0 | `callsite` `clock` `error_text` `export_thread` `flags` `hex` `limits` `percent` `slo` `stderr_report` `value` | foundations: code locations, the clock, error text, the export thread's mark, the one word the hot path reads first, hex, the attribute limits in force, percent-decoding, service level objectives as data, o11y's own failures on stderr (at most once per interval), field values |
//! | 1 | `config` | keys, parsing, validation, profiles: plain data |
//! | 2 | `metrics` | metric types, the link-time registry, exposition, the scrape answer and its access rules |
//! | 3 | `error` `redact` | what `init()` and the servers it starts report; the redaction engine (key rule, value patterns, their counts) and the engine in force |
//! | 4 | `trace` | ids, sampling, the span stage and its recordings, W3C propagation |
//! | 5 | `log` | the log stage: line formatting, sinks, OTLP log records |
//! | 6 | `export` | the export thread, its queues, OTLP encoding and transports |
//! | 7 | `console_store` `db` `sentry` | the dev console's store of recent traces and log lines, fed by the export thread; fingerprints, N+1 scopes and detection, the sqlx bridge stage; failures as Sentry events, redacted, and their transport (feature `sentry`) |
//! | 8 | `subscriber` | composes the stages: where spans live, the current span, each stage's part of a span's state |
//! | 9 | `lifecycle` | one lifecycle for an instrumented operation: decision, clock, span, outcome (an `exception` event for an error or a panic; the panic hook), metrics with exemplar |
//! | 10 | `observe` | the runtime side of `#[observe]` |
//! | 11 | `context` `dev_console` | the context API over the current span; the dev console's pages and OTLP receiver, one handler both HTTP servers call |
//! | 12 | `http` `metrics_server` `task` | integrations: the HTTP server layer and client, the standalone metrics server, background tasks |
//! | 13 | `command` | what a program runs instead of itself under `O11Y_COMMAND`: `check` (is the set-up working?), `catalog` (the metric catalog), and what is generated from it: `dashboards`, `rules`, `stack` |
//! | 14 | `init` | resolves the configuration, builds the stages, starts the export thread, returns the guard; runs the command `O11Y_COMMAND` names instead |

mod callsite;
mod clock;
pub mod command;
pub mod config;
mod console_store;
pub mod context;
pub mod db;
pub mod dev_console;
mod error;
mod error_text;
pub mod export;
mod export_thread;
mod flags;
mod hex;
pub mod http;
mod init;
mod lifecycle;
mod limits;
pub mod log;
pub mod metrics;
pub mod metrics_server;
#[doc(hidden)]
pub mod observe;
mod percent;
mod redact;
#[cfg(feature = "sentry")]
mod sentry;
pub mod slo;
mod stderr_report;
mod subscriber;
pub mod task;
pub mod trace;
mod value;

pub use config::{Config, ConfigError};
pub use context::{log_context, span_attribute, tag};
pub use error::Error;
pub use export::{ExportStats, flush};
pub use init::{Guard, Setup, init, init_with, layer};
pub use value::FieldValue;
