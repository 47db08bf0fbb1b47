//! What `init()` does for metrics: refuse a registry with invalid or
//! duplicate metrics, apply `metrics.series_cap`, hand the endpoint and its
//! access rules to the metrics servers, and record what is running in
//! `o11y_build_info`.

use crate::config::Config;

use super::family::set_global_series_cap;
use super::own::BUILD_INFO;
use super::registry::{RegistryError, check};
use super::server;

pub(crate) fn init(config: &Config) -> Result<(), RegistryError> {
    check()?;
    set_global_series_cap(config.metrics.series_cap);
    server::configure(&config.metrics);
    let version = config.service_version.as_deref().unwrap_or("unknown");
    BUILD_INFO
        .labels([&config.service_name, version, env!("CARGO_PKG_VERSION")])
        .set(1.0);
    Ok(())
}
