//! The `check` sections about what the program runs with: every
//! configuration value with its source, and the build (o11y's version, the
//! compiled features, the profile).

use crate::config::{Config, ConfigError, Origin, Profile};

use super::super::report::Section;

/// Every key's value and where it came from, or why the configuration
/// does not load.
pub(super) fn configuration(config: Result<&Config, &ConfigError>) -> Section {
    let mut section = Section::new("configuration", "Configuration");
    let config = match config {
        Ok(config) => config,
        Err(error) => {
            section
                .error(format!("the configuration does not load: {error}"))
                .with("error", error.to_string());
            return section;
        }
    };
    match config.config_file() {
        Some(path) => section
            .ok(format!("config file {}", path.display()))
            .with("config_file", path.display().to_string()),
        None => section
            .ok("no config file read (./o11y.toml does not exist, or none was named)")
            .with("config_file", serde_json::Value::Null),
    };
    for value in config.resolved_values() {
        let shown = match value.value.as_deref() {
            None => "(unset)",
            Some("") => "(empty)",
            Some(text) => text,
        };
        let (kind, source) = source(&value.origin);
        section
            .ok(format!("{} = {shown}  ({source})", value.key))
            .with("key", value.key)
            .with("value", value.value.clone())
            .with("source", source)
            .with("source_kind", kind);
    }
    section
}

/// The kind of an origin (`default`, `file`, `env`, `code`) and how a line
/// names it.
fn source(origin: &Origin) -> (&'static str, String) {
    match origin {
        Origin::Default => ("default", "default".to_owned()),
        Origin::File { path, line, .. } => ("file", format!("{}:{line}", path.display())),
        Origin::Env(name) => ("env", format!("env {name}")),
        Origin::Builder => ("code", "code: Config::builder()".to_owned()),
    }
}

/// The features this build of o11y has, in the order of its manifest.
fn features() -> Vec<&'static str> {
    [
        ("axum", cfg!(feature = "axum")),
        ("reqwest", cfg!(feature = "reqwest")),
        ("sqlx", cfg!(feature = "sqlx")),
        ("tls", cfg!(feature = "tls")),
        ("off", cfg!(feature = "off")),
        ("profile-dev", cfg!(feature = "profile-dev")),
        ("profile-prod", cfg!(feature = "profile-prod")),
        ("profile-test", cfg!(feature = "profile-test")),
    ]
    .into_iter()
    .filter_map(|(name, on)| on.then_some(name))
    .collect()
}

/// o11y's version, the compiled features, the build and the profile.
pub(super) fn build(config: Result<&Config, &ConfigError>) -> Section {
    let mut section = Section::new("build", "Build");
    section
        .ok(format!("o11y {}", env!("CARGO_PKG_VERSION")))
        .with("o11y_version", env!("CARGO_PKG_VERSION"));
    let features = features();
    let listed = if features.is_empty() {
        "none (no integration: axum, reqwest, sqlx and tls are off)".to_owned()
    } else {
        features.join(", ")
    };
    section
        .ok(format!("features: {listed}"))
        .with("features", features.clone());
    if cfg!(feature = "off") {
        section.warning(
            "feature `off`: instrumentation is compiled out; #[observe], #[task_traced] and \
             #[metric] record nothing",
        );
    }
    let debug = cfg!(debug_assertions);
    let build = if debug { "debug" } else { "release" };
    section.ok(format!("{build} build")).with("build", build);
    let compiled = Profile::compiled_default();
    match config {
        Ok(config) => {
            let chosen = if config.profile == compiled {
                format!("the compiled default, {compiled}")
            } else {
                format!("chosen over the compiled default, {compiled}")
            };
            let message = format!("profile {}: {chosen}", config.profile);
            if config.profile == Profile::Dev && !debug {
                section.warning(format!(
                    "{message}; a release build in the dev profile logs at debug level and keeps \
                     every trace (set O11Y_PROFILE=prod)"
                ))
            } else {
                section.ok(message)
            }
            .with("profile", config.profile.as_str());
        }
        Err(_) => {
            section
                .warning(format!(
                    "profile unknown: the configuration does not load (the compiled default is {compiled})"
                ))
                .with("profile", serde_json::Value::Null);
        }
    }
    section
}
