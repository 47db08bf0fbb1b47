//! Attribute macros of [o11y](https://docs.rs/o11y). Use them through the
//! `o11y` crate, which re-exports them next to the runtime they call into:
//! the generated code is thin and calls `o11y::__private`.
//!
//! - `#[observe]` instruments a function (or every method of an `impl`
//!   block): a span, RED metrics, error/panic/cancellation outcomes.
//! - `#[metric]` declares a static metric, registered at link time, with
//!   its name, unit, labels and buckets checked at compile time.
//! - `#[task_traced]` traces a background task from its envelope.
//! - `#[derive(LabelValue)]` lets an enum be a label value.

mod common;
mod label_value;
mod metric;
mod observe;
#[cfg(all(test, not(feature = "off")))]
mod snapshots;
mod task;

use proc_macro::TokenStream;

/// Instruments a function or the methods of an `impl` block.
///
/// Each call gets a span (named `module::function`, or `Type::method` for a
/// method, on an observed `impl` block or on its own), RED metrics (`function_calls_total{function,
/// module,result}`, `function_calls_duration_seconds{function,module}` with
/// a trace exemplar, `function_calls_concurrent` with `concurrency`), and its
/// outcome: `Err(_)` (with `error.type`, the error's type name), a panic
/// (`error.type = "panic"`, and the panic still propagates) or a future
/// dropped before completion (`error.type = "cancelled"`). A panic, and an
/// `Err` that `err` logs, also put an OpenTelemetry `exception` event on the
/// span (`exception.type`, `exception.message`, and a panic's
/// `exception.stacktrace` when backtraces are on). Arguments are not
/// recorded unless named.
///
/// | argument | effect |
/// |---|---|
/// | `name = "..."` | the span's name |
/// | `level = "debug"` | the span's level (default `info`) |
/// | `fields(a = expr, b = %expr, c = ?expr)` | span fields, also on every log line inside |
/// | `fields(a)` | the parameter `a` as a field, as `args(a)` records it |
/// | `args` / `args(a, b)` | record all / these parameters as fields |
/// | `skip(a, b)` | with bare `args`: leave these out |
/// | `skip` | on a method of an observed `impl` block: not observed |
/// | `err` / `err(level = "warn")` | log an `Err`'s `Display` as `error`, and its `source()` chain as `error.sources` (default level `error`); the span gets its `exception` event |
/// | `ret` / `ret(level = "debug")` | log the returned value's `Debug` |
/// | `concurrency` | maintain `function_calls_concurrent` |
/// | `metrics = false` | no metrics |
/// | `span = false` | no span |
/// | `objective(success = 99.9, latency = "250ms" at 99)` | a service level objective (either part or both): `o11y rules` and `o11y dashboards` turn it into recording rules, burn-rate alerts and the SLO dashboard |
/// | `crate = path` | where o11y is, when re-exported |
///
/// `objective`: `success` is the share of calls, in percent, that must not
/// fail (`Err`, a panic, a cancellation); `latency = "250ms" at 99` says 99 %
/// of calls finish within 250 ms, measured on
/// `function_calls_duration_seconds`, so the threshold must be one of its
/// buckets (5ms, 10ms, 25ms, 50ms, 75ms, 100ms, 250ms, 500ms, 750ms, 1s,
/// 2.5s, 5s, 7.5s, 10s): another one is a compile error naming them.
/// Percentages are above 0 and below 100; the objective is over 30 days.
/// An `impl` block takes it per method, not for the whole block.
///
/// Runnable examples are in the `o11y` crate's documentation.
///
/// ```text
/// #[o11y::observe(fields(order_id = id), err)]
/// async fn get_order(db: &Pool, id: i64) -> Result<Order, AppError> { .. }
/// ```
///
/// A method observed on its own cannot show the attribute its type: the
/// runtime reads it once per method (from `type_name`), so `ItemRepo::find`
/// and `OrderRepo::find` are two series. Two observed functions that would
/// still share the `function` and `module` labels make `init()` fail,
/// naming both.
///
/// A sampled-out call without `fields`/`args` creates no span at all: it
/// costs two clock reads and two atomic updates. With o11y off (not
/// initialised, or the `off` feature), a call costs one relaxed load.
#[proc_macro_attribute]
pub fn observe(attr: TokenStream, item: TokenStream) -> TokenStream {
    observe::observe(attr.into(), item.into()).into()
}

/// Declares a static metric, registered at link time so `/metrics` shows it
/// (with HELP, TYPE and zero values) from the first scrape.
///
/// The first argument is the type: `counter`, `gauge` or `histogram`. Then:
/// `help = "..."` (required), `labels(a, b)`, `name = "..."` (default: the
/// static's name in snake case, plus `_total` for a counter), `unit =
/// "seconds"` (the name must end in `_seconds`), `buckets = [..]`
/// (histograms), `series_cap = N`, `crate = path`. Names, units, label names
/// and buckets are checked at compile time.
///
/// With labels, the static gets a `labels(..)` method with one parameter per
/// label, in order, each taking any `LabelValue` (text, integers, `bool`,
/// or an enum deriving `LabelValue`); a wrong count is a compile error.
///
/// Runnable examples are in the `o11y` crate's documentation.
///
/// ```text
/// #[o11y::metric(counter, help = "Payments processed", labels(status, method))]
/// static PAYMENTS: o11y::Counter;
///
/// PAYMENTS.labels("success", "card").inc(); // keep the handle on hot paths
/// ```
#[proc_macro_attribute]
pub fn metric(attr: TokenStream, item: TokenStream) -> TokenStream {
    metric::metric(attr.into(), item.into()).into()
}

/// Traces a background task: on a worker function whose parameter is the
/// task's `o11y::task::Envelope<T>` (or a headers map, `impl
/// o11y::task::Carrier`, marked `#[carrier]`), each run gets a CONSUMER span
/// `process <task>` whose parent is the producer's span (one trace from
/// the request that enqueued the task to the worker, across processes,
/// with the `tracestate` it carried), naming the producer's
/// `messaging.system` (left out when the message does not say) and
/// `messaging.destination.name` (default: the task's name), the events `task_started`, `task_succeeded`, `task_failed`,
/// `task_retried` (with `task_id`, `task_name`, `duration_ms`, `trace_id`,
/// `span_id`), and the metrics `task_runs_total{task,outcome}`,
/// `task_duration_seconds{task}`, `task_queue_wait_seconds{task}` and
/// `task_in_progress{task}`. A panic (`panicked`) and a future dropped
/// mid-run (`cancelled`) are recorded by a drop guard. A run that called
/// `o11y::task::retry(reason)` is `retried`. A failed or panicked run puts
/// an OpenTelemetry `exception` event on the span, and `task_failed`
/// carries the error's `source()` chain as `error.sources`.
///
/// | argument | effect |
/// |---|---|
/// | `name = "..."` | the task's name (default: the function's) |
/// | `level = "debug"` | the span's level (default `info`) |
/// | `fields(..)`, `args`, `args(a, b)`, `skip(a, b)` | span fields, as on `#[observe]` |
/// | `err` / `ret` | log the error / the returned value, as on `#[observe]` |
/// | `link` | the producer's span is a link, not the parent (batch consumers) |
/// | `crate = path` | where o11y is, when re-exported |
///
/// ```text
/// #[o11y::task_traced(fields(order_id = job.payload.order_id))]
/// async fn process_order(job: o11y::task::Envelope<OrderJob>) -> Result<(), Error> { .. }
///
/// #[o11y::task_traced(name = "resize", link)]
/// fn resize(#[carrier] headers: &HashMap<String, String>, body: &[u8]) { .. }
/// ```
#[proc_macro_attribute]
pub fn task_traced(attr: TokenStream, item: TokenStream) -> TokenStream {
    task::task_traced(attr.into(), item.into()).into()
}

/// Makes a fieldless enum usable as a metric label value.
#[proc_macro_derive(LabelValue, attributes(label))]
pub fn derive_label_value(input: TokenStream) -> TokenStream {
    label_value::derive(input.into()).into()
}
