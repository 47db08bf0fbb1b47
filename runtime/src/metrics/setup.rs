//! What `init()` does for metrics: refuse a registry with invalid or
//! duplicate metrics, and record what is running in `o11y_build_info`.

use crate::config::Config;

use super::own::BUILD_INFO;
use super::registry::{RegistryError, check};

pub(crate) fn init(config: &Config) -> Result<(), RegistryError> {
    check()?;
    let version = config.service_version.as_deref().unwrap_or("unknown");
    BUILD_INFO.labels([&config.service_name, version, env!("CARGO_PKG_VERSION")]).set(1.0);
    Ok(())
}
