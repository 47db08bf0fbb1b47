//! Serving `/metrics`: the answer to a scrape that the standalone server
//! (`metrics_server`) and the axum routes share ([`scrape_response`]), and
//! the access rules both apply (`metrics.allow_from`,
//! `metrics.bearer_token`; the dev console applies the same rules to its
//! `dev_console.allow_from`). The endpoint and the access rules are read from
//! the active configuration at each request (the defaults, `/metrics` open
//! to every client, until `init()` has run).

mod access;
mod scrape;

pub(crate) use access::{Access, AccessRules, active, decide};
pub(crate) use scrape::plain;
pub use scrape::scrape_response;

pub use crate::config::{
    DEFAULT_METRICS_ENDPOINT as DEFAULT_ENDPOINT, DEFAULT_METRICS_LISTEN as DEFAULT_LISTEN,
};
