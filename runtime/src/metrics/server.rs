//! Serving `/metrics`: the answer to a scrape that the standalone server
//! (`metrics_server`) and the axum routes share ([`scrape_response`]), and
//! the access rules both apply (`metrics.allow_from`,
//! `metrics.bearer_token`). The endpoint and the access rules are read from
//! the active configuration at each request (the defaults, `/metrics` open
//! to every client, until `init()` has run).

mod access;
mod scrape;

use std::net::{IpAddr, SocketAddr};

pub(crate) use access::{active, configure};
pub(crate) use scrape::plain;
pub use scrape::scrape_response;

/// `metrics.endpoint` by default: the path Prometheus scrapes unless told otherwise.
pub const DEFAULT_ENDPOINT: &str = "/metrics";

/// `metrics.listen` by default: loopback, port 9464 (the OpenTelemetry
/// Prometheus exporter's port).
pub const DEFAULT_LISTEN: SocketAddr =
    SocketAddr::new(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 9464);
