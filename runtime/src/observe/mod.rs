//! The runtime side of `#[observe]`: what the generated code calls.
//!
//! A call costs, in order of what it can skip:
//! - o11y off (not initialised, or compiled out): one relaxed atomic load;
//! - metrics only, or a call that is not sampled: the clock at both ends and
//!   a counter and a histogram updated through handles cached in the call
//!   site's `static` (no label hashing);
//! - a sampled call: a `tracing` span too, recorded and exported, whose ids
//!   go into the duration histogram's exemplar.
//!
//! Outcomes are recorded by a drop guard, so a panic (`error.type=panic`)
//! and a future dropped before completion (`error.type=cancelled`) are
//! counted as errors, and the panic still propagates unchanged. A panic,
//! and an `Err` that `err` logs, also put an OpenTelemetry `exception`
//! event on the call's span.

mod guard;
mod outcome;
mod site;

pub use crate::flags::{ENABLED, METRICS, TRACING, flags, set_flags};
pub use guard::{CallGuard, Run, call_once};
/// linkme, for the registration of each site that `#[observe]` generates.
#[doc(hidden)]
pub use linkme as __linkme;
pub use outcome::{
    Check, HasError, IsResult, NoError, NoSources, NotAnError, NotResult, ObservedResult, Sources,
    SourcesOfError, SourcesOfLocalError, SourcesOfSharedError,
};
pub(crate) use site::shared_series;
pub use site::{FN_SITES, FnSite, SiteOptions};
