//! The OpenTelemetry resource: who is sending (service, instance, host,
//! process, environment), from the configuration and the running process.

use opentelemetry::KeyValue;
use opentelemetry_sdk::Resource;

use crate::config::Config;

pub(crate) fn resource(config: &Config) -> Resource {
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    let pid = std::process::id();
    let detected = [
        KeyValue::new("service.instance.id", format!("{host}:{pid}")),
        KeyValue::new("host.name", host),
        KeyValue::new("process.pid", i64::from(pid)),
        KeyValue::new("deployment.environment.name", config.profile.to_string()),
        KeyValue::new("telemetry.sdk.name", "o11y"),
        KeyValue::new("telemetry.sdk.language", "rust"),
        KeyValue::new("telemetry.sdk.version", env!("CARGO_PKG_VERSION")),
    ];
    let configured = config
        .resource_attributes
        .iter()
        .map(|(k, v)| KeyValue::new(k.clone(), v.clone()));
    // Later attributes win: what the user configured beats what was detected,
    // and the service fields of the config beat both.
    let mut builder = Resource::builder_empty()
        .with_attributes(detected)
        .with_attributes(configured);
    if let Some(version) = &config.service_version {
        builder = builder.with_attribute(KeyValue::new("service.version", version.clone()));
    }
    builder
        .with_service_name(config.service_name.clone())
        .build()
}
