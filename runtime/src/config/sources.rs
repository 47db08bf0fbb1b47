//! Where each resolved value came from ([`Sources`], kept in the
//! [`Config`]), and [`Config::resolved_values`]: every key's value as
//! written in the configuration, with that source, for `o11y check`.
//!
//! The source of a key is the last one that set it (later sources win, as
//! in resolution); a key no source set has [`Origin::Default`]. A value
//! assigned to a `Config` field in code after it was built keeps the
//! source of the value it replaced: only the sources resolution reads are
//! tracked.

use std::path::{Path, PathBuf};

use super::keys::{KNOWN_KEYS, Key, read};
use super::table::Redact;
use super::value::{Setting, without_credentials};
use super::{Config, Origin, OtlpSignal};

/// The source of every key some source set, and the config file read.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Sources {
    /// Indexed by [`Key`] (the order of [`KNOWN_KEYS`]).
    keys: Vec<Option<Origin>>,
    /// One signal's own endpoint and protocol (`OTEL_EXPORTER_OTLP_<SIGNAL>_*`),
    /// in the order of [`OtlpSignal::ALL`].
    signals: [SignalSources; 3],
    /// The `o11y.toml` (or `O11Y_CONFIG`) file that was read, if any.
    file: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, PartialEq)]
struct SignalSources {
    endpoint: Option<Origin>,
    protocol: Option<Origin>,
}

impl Sources {
    /// `setting` was accepted from `origin`.
    pub(super) fn record(&mut self, setting: &Setting, origin: &Origin) {
        let slot = match setting {
            Setting::SignalEndpoint(signal, _) => &mut self.signals[index(*signal)].endpoint,
            Setting::SignalProtocol(signal, _) => &mut self.signals[index(*signal)].protocol,
            other => {
                if self.keys.is_empty() {
                    self.keys = vec![None; KNOWN_KEYS.len()];
                }
                &mut self.keys[other.key() as usize]
            }
        };
        *slot = Some(origin.clone());
    }

    pub(super) fn set_file(&mut self, path: PathBuf) {
        self.file = Some(path);
    }

    fn of(&self, key: Key) -> Origin {
        self.keys
            .get(key as usize)
            .cloned()
            .flatten()
            .unwrap_or(Origin::Default)
    }
}

fn index(signal: OtlpSignal) -> usize {
    OtlpSignal::ALL
        .iter()
        .position(|s| *s == signal)
        .expect("OtlpSignal::ALL lists every signal")
}

/// One key's resolved value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResolvedValue {
    /// The dotted `o11y.toml` name; one signal's own destination is
    /// `tracing.otlp_endpoint.<signal>` / `tracing.otlp_protocol.<signal>`
    /// (set by variables only).
    pub key: &'static str,
    /// The variable that sets it.
    pub env: &'static str,
    /// The value as the configuration writes it (a list with its
    /// separator, a duration like `5s`), `None` when unset. Secrets show as
    /// `***` and URLs without their user and password.
    pub value: Option<String>,
    /// Where it came from; [`Origin::Default`] for a profile default or a
    /// value computed from the others (service name, log file path).
    pub origin: Origin,
}

/// `tracing.otlp_endpoint.<signal>` and `tracing.otlp_protocol.<signal>`,
/// in the order of [`OtlpSignal::ALL`].
const SIGNAL_KEYS: [(&str, &str); 3] = [
    (
        "tracing.otlp_endpoint.traces",
        "tracing.otlp_protocol.traces",
    ),
    (
        "tracing.otlp_endpoint.metrics",
        "tracing.otlp_protocol.metrics",
    ),
    ("tracing.otlp_endpoint.logs", "tracing.otlp_protocol.logs"),
];

impl Config {
    /// Every key's value and its source, in the order of
    /// [`KNOWN_KEYS`], followed by each signal's own
    /// endpoint and protocol where one is set. What `o11y check` lists.
    ///
    /// ```
    /// use o11y_runtime::config::{Config, Origin};
    /// let config = Config::builder()
    ///     .no_config_file()
    ///     .env_vars([("O11Y_TRACING_SAMPLE_RATE", "0.5")])
    ///     .service_name("checkout")
    ///     .build()?;
    /// let values = config.resolved_values();
    /// let rate = values.iter().find(|v| v.key == "tracing.sample_rate").unwrap();
    /// assert_eq!(rate.value.as_deref(), Some("0.5"));
    /// assert_eq!(rate.origin, Origin::Env("O11Y_TRACING_SAMPLE_RATE".into()));
    /// let name = values.iter().find(|v| v.key == "service_name").unwrap();
    /// assert_eq!(name.origin, Origin::Builder);
    /// # Ok::<(), o11y_runtime::ConfigError>(())
    /// ```
    pub fn resolved_values(&self) -> Vec<ResolvedValue> {
        let mut values: Vec<ResolvedValue> = KNOWN_KEYS
            .iter()
            .map(|def| ResolvedValue {
                key: def.name,
                env: def.env,
                value: shown(self, def.key, def.redact),
                origin: self.sources.of(def.key),
            })
            .collect();
        for (i, signal) in OtlpSignal::ALL.into_iter().enumerate() {
            let own = self.tracing.signals.of(signal);
            let sources = &self.sources.signals[i];
            let (endpoint_key, protocol_key) = SIGNAL_KEYS[i];
            if let Some(url) = &own.endpoint {
                values.push(ResolvedValue {
                    key: endpoint_key,
                    env: super::keys::SIGNAL_ENDPOINT_VARS[i],
                    value: Some(without_credentials(url).into_owned()),
                    origin: sources.endpoint.clone().unwrap_or(Origin::Default),
                });
            }
            if let Some(protocol) = own.protocol {
                values.push(ResolvedValue {
                    key: protocol_key,
                    env: super::keys::SIGNAL_PROTOCOL_VARS[i],
                    value: Some(Setting::OtlpProtocol(protocol).to_string()),
                    origin: sources.protocol.clone().unwrap_or(Origin::Default),
                });
            }
        }
        values
    }

    /// The config file that was read (`./o11y.toml`, or the one
    /// `O11Y_CONFIG` or [`ConfigBuilder::config_file`](super::ConfigBuilder::config_file)
    /// named), if any.
    pub fn config_file(&self) -> Option<&Path> {
        self.sources.file.as_deref()
    }
}

/// The value of `key` in `config` as the configuration writes it.
fn shown(config: &Config, key: Key, redact: Redact) -> Option<String> {
    // The keys `read` cannot reach: stored by hand, or computed last.
    let text = match key {
        Key::Profile => config.profile.to_string(),
        Key::ServiceName => config.service_name.clone(),
        Key::LogFilePath => config.logging.file_path.display().to_string(),
        Key::ResourceAttributes => {
            let pairs = config.resource_attributes.clone().into_iter().collect();
            Setting::ResourceAttributes(pairs).to_string()
        }
        other => read(config, other)?.to_string(),
    };
    Some(match redact {
        Redact::Credentials => without_credentials(&text).into_owned(),
        // `Setting`'s Display already shows a secret as `***`.
        Redact::Secret | Redact::None => text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value<'a>(values: &'a [ResolvedValue], key: &str) -> &'a ResolvedValue {
        values
            .iter()
            .find(|v| v.key == key)
            .unwrap_or_else(|| panic!("no {key} in {values:#?}"))
    }

    #[test]
    fn every_key_is_listed_with_the_source_that_set_it_last() {
        let dir = std::env::temp_dir().join(format!("o11y-sources-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("o11y.toml");
        std::fs::write(
            &file,
            "service_name = \"from-file\"\n[tracing]\nsample_rate = 0.25\nenabled = true\n",
        )
        .unwrap();
        let config = Config::builder()
            .config_file(&file)
            .env_vars([
                ("O11Y_TRACING_ENABLED", "false"),
                (
                    "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
                    "http://u:p@logs:4318/v1/logs",
                ),
                ("O11Y_METRICS_BEARER_TOKEN", "s3cret"),
            ])
            .log_level("warn")
            .build()
            .unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let values = config.resolved_values();
        assert_eq!(values.len(), KNOWN_KEYS.len() + 1);
        assert_eq!(config.config_file(), Some(file.as_path()));

        let rate = value(&values, "tracing.sample_rate");
        assert_eq!(rate.value.as_deref(), Some("0.25"));
        assert!(
            matches!(&rate.origin, Origin::File { path, line: 3, .. } if *path == file),
            "{rate:?}"
        );
        let enabled = value(&values, "tracing.enabled");
        assert_eq!(enabled.value.as_deref(), Some("false"));
        assert_eq!(enabled.origin, Origin::Env("O11Y_TRACING_ENABLED".into()));
        assert_eq!(value(&values, "logging.level").origin, Origin::Builder);
        let endpoint = value(&values, "tracing.otlp_endpoint");
        assert_eq!(
            (endpoint.value.as_deref(), &endpoint.origin),
            (None, &Origin::Default)
        );
        let logs = value(&values, "tracing.otlp_endpoint.logs");
        assert_eq!(logs.value.as_deref(), Some("http://logs:4318/v1/logs"));
        assert_eq!(
            logs.origin,
            Origin::Env("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT".into())
        );
        assert_eq!(
            value(&values, "metrics.bearer_token").value.as_deref(),
            Some("***")
        );
        assert_eq!(
            value(&values, "service_name").value.as_deref(),
            Some("from-file")
        );
        let path = value(&values, "logging.file_path");
        assert_eq!(path.origin, Origin::Default);
        assert!(
            path.value
                .as_deref()
                .unwrap()
                .ends_with("from-file/app.log"),
            "{path:?}"
        );
    }

    #[test]
    fn the_profile_has_the_source_that_chose_it() {
        let config = Config::builder()
            .no_config_file()
            .env_vars([("O11Y_PROFILE", "prod")])
            .build()
            .unwrap();
        let values = config.resolved_values();
        let profile = value(&values, "profile");
        assert_eq!(profile.value.as_deref(), Some("prod"));
        assert_eq!(profile.origin, Origin::Env("O11Y_PROFILE".into()));
        assert_eq!(config.config_file(), None);
    }
}
