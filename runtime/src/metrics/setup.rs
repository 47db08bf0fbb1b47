//! What `init()` does for metrics: refuse a registry with invalid or
//! duplicate metrics, apply `metrics.series_cap` (a word every new series
//! reads), record what is running in `o11y_build_info`, and expose each
//! reason of `o11y_spans_dropped_total` at 0. The endpoint
//! and its access rules come from the configuration in force.

use crate::config::Config;

use super::family::set_global_series_cap;
use super::own::{BUILD_INFO, create_span_drop_series};
use super::registry::{RegistryError, check};

pub(crate) fn init(config: &Config) -> Result<(), RegistryError> {
    check()?;
    set_global_series_cap(config.metrics.series_cap);
    let version = config.service_version.as_deref().unwrap_or("unknown");
    BUILD_INFO
        .labels([&config.service_name, version, env!("CARGO_PKG_VERSION")])
        .set(1.0);
    create_span_drop_series();
    Ok(())
}
