//! Resolution: [`ConfigBuilder`], the in-code source, and layering every
//! source over the profile defaults into a validated [`Config`], with the
//! defaults that depend on the final values (service name, log file path).
//!
//! Sources, later wins: profile defaults < `o11y.toml` < environment <
//! builder. Every value is validated where it is read, even one a later
//! source overrides: a typo must not hide behind an override that happens to
//! be set today.
//!
//! The keys, their variables and value syntax are listed in the
//! [`config`](super) module docs, from [`KNOWN_KEYS`](super::KNOWN_KEYS).

use std::fmt;
use std::path::{Path, PathBuf};

use super::env::{Env, env_entries, sdk_disabled_entries};
use super::file::{FileChoice, file_entries, locate_file};
use super::keys::store;
use super::value::{Entry, Setting, check};
use super::{Config, ConfigError, Origin, OtlpProtocol, OtlpSignal, Profile};

// ---------------------------------------------------------------------------
// Layering
// ---------------------------------------------------------------------------

/// The configuration being assembled. The service name and log file path
/// stay empty until every source is applied (no source may set them empty):
/// the default path depends on the final name.
struct Draft {
    config: Config,
}

impl Draft {
    fn new(profile: Profile) -> Draft {
        Draft {
            config: profile.base_config(),
        }
    }

    fn accept(&mut self, entry: Entry) -> Result<(), ConfigError> {
        let Entry {
            setting,
            raw,
            origin,
        } = entry;
        if let Err(refusal) = check(&setting) {
            return Err(refusal.into_error(setting.key(), &raw, origin));
        }
        self.config.sources.record(&setting, &origin);
        match setting {
            Setting::ResourceAttributes(pairs) => self.accept_attributes(pairs, &origin),
            other => {
                store(&mut self.config, other);
                Ok(())
            }
        }
    }

    /// `service.name` and `service.version` are the service name and
    /// version, not extra attributes: they feed those fields (and their
    /// validation) so there is one place each is decided.
    fn accept_attributes(
        &mut self,
        pairs: Vec<(String, String)>,
        origin: &Origin,
    ) -> Result<(), ConfigError> {
        for (name, value) in pairs {
            let setting = match name.as_str() {
                "service.name" => Setting::ServiceName(value.clone()),
                "service.version" => Setting::ServiceVersion(value.clone()),
                _ => {
                    self.config.resource_attributes.insert(name, value);
                    continue;
                }
            };
            self.accept(Entry {
                setting,
                raw: value,
                origin: origin.clone(),
            })?;
        }
        Ok(())
    }

    fn finish(self, env: &Env) -> Config {
        let mut config = self.config;
        if config.service_name.is_empty() {
            config.service_name = executable_name();
        }
        if config.logging.file_path.as_os_str().is_empty() {
            config.logging.file_path = default_log_path(env, &config.service_name);
        }
        config
    }
}

/// The service name when none is configured: the executable's file stem.
fn executable_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.file_stem()?.to_str().map(str::to_owned))
        .filter(|stem| !stem.trim().is_empty())
        .unwrap_or_else(|| "unknown_service".to_owned())
}

/// `${XDG_STATE_HOME:-$HOME/.local/state}/o11y/<service>/app.log`, falling
/// back to the temporary directory when neither variable is usable.
fn default_log_path(env: &Env, service_name: &str) -> PathBuf {
    // The XDG spec says a relative XDG_STATE_HOME is invalid and ignored.
    let state_home = env
        .get("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            env.get("HOME")
                .map(|h| Path::new(h).join(".local").join("state"))
        })
        .unwrap_or_else(std::env::temp_dir);
    state_home
        .join("o11y")
        .join(path_component(service_name))
        .join("app.log")
}

/// The service name made safe as one path component: a name like
/// `../etc` or `a/b` must not move the log file out of its directory.
fn path_component(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if safe.chars().all(|c| c == '.') {
        safe.replace('.', "_")
    } else {
        safe
    }
}

// ---------------------------------------------------------------------------
// The builder
// ---------------------------------------------------------------------------

/// Resolves a [`Config`]: profile defaults < `o11y.toml` < environment <
/// the settings made on this builder. See the [`config`](super) module for keys
/// and syntax; each key has a setter here, declared with the key.
///
/// ```no_run
/// # use o11y_runtime::config::{Config, Profile};
/// let config = Config::builder()
///     .profile(Profile::Prod)
///     .service_name("checkout")
///     .sample_rate(0.1)
///     .build()?;
/// # Ok::<(), o11y_runtime::config::ConfigError>(())
/// ```
///
/// ```
/// use std::time::Duration;
/// use o11y_runtime::config::{Config, NPlusOneMode};
///
/// let config = Config::builder()
///     .db_n_plus_one_threshold(3)
///     .db_n_plus_one_min_duration(Duration::ZERO)
///     .db_n_plus_one_allowlist(["warm_cache", "SELECT * FROM flags WHERE name = ?"])
///     .db_n_plus_one_mode(NPlusOneMode::Raise)
///     .db_capture_parameters(false)
///     .build()?;
/// assert_eq!(config.db.n_plus_one.threshold, 3);
/// # Ok::<(), o11y_runtime::ConfigError>(())
/// ```
#[derive(Clone, Default)]
pub struct ConfigBuilder {
    settings: Vec<Setting>,
    file: FileChoice,
    env: Option<Vec<(String, String)>>,
}

/// Settings as their values are written (a secret as `***`), and variables
/// given in code by name only: any of their values may be a secret.
impl fmt::Debug for ConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let settings: Vec<String> = self
            .settings
            .iter()
            .map(|setting| format!("{}={setting}", setting.key().def().name))
            .collect();
        let env: Option<Vec<&str>> = self
            .env
            .as_ref()
            .map(|vars| vars.iter().map(|(name, _)| name.as_str()).collect());
        f.debug_struct("ConfigBuilder")
            .field("settings", &settings)
            .field("file", &self.file)
            .field("env_vars", &env)
            .finish()
    }
}

impl ConfigBuilder {
    pub(super) fn with(mut self, setting: Setting) -> Self {
        self.settings.push(setting);
        self
    }

    /// Reads this file instead of `O11Y_CONFIG` / `./o11y.toml`; it must exist.
    #[must_use]
    pub fn config_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.file = FileChoice::Path(path.into());
        self
    }

    /// Reads no config file at all, whatever `O11Y_CONFIG` says.
    #[must_use]
    pub fn no_config_file(mut self) -> Self {
        self.file = FileChoice::None;
        self
    }

    /// Uses these variables as the whole environment instead of the
    /// process's (for tests and embedding).
    #[must_use]
    pub fn env_vars<I, K, V>(mut self, vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let vars = vars.into_iter().map(|(k, v)| (k.into(), v.into()));
        self.env = Some(vars.collect());
        self
    }

    /// Adds one resource attribute (`service.name` / `service.version` set
    /// the service name / version).
    #[must_use]
    pub fn resource_attribute(self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.with(Setting::ResourceAttributes(vec![(
            name.into(),
            value.into(),
        )]))
    }

    /// One signal's own endpoint, as `OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT`
    /// sets it: an `http://` or (with the `tls` feature) `https://` URL used
    /// as written (see
    /// [`TracingConfig::otlp_target`](super::TracingConfig::otlp_target)).
    #[must_use]
    pub fn otlp_signal_endpoint(self, signal: OtlpSignal, url: impl Into<String>) -> Self {
        self.with(Setting::SignalEndpoint(signal, url.into()))
    }

    /// One signal's own protocol, as `OTEL_EXPORTER_OTLP_<SIGNAL>_PROTOCOL`
    /// sets it.
    #[must_use]
    pub fn otlp_signal_protocol(self, signal: OtlpSignal, protocol: OtlpProtocol) -> Self {
        self.with(Setting::SignalProtocol(signal, protocol))
    }

    /// Resolves and validates the configuration.
    ///
    /// The profile is the builder's, else `O11Y_PROFILE`, else the file's
    /// `profile`, else [`Profile::compiled_default`]. Fails on the first
    /// invalid value or unknown key, in source order (file, environment,
    /// builder).
    pub fn build(self) -> Result<Config, ConfigError> {
        let env = match &self.env {
            Some(pairs) => Env::from_pairs(pairs),
            None => Env::from_process()?,
        };
        let located = locate_file(&self.file, &env);
        // Read when it exists: a missing default file is no error, and
        // `file_entries` fails on any other one it cannot read.
        let file_read = located
            .as_ref()
            .map(|file| file.path().to_owned())
            .filter(|path| path.is_file());
        let from_file = match located {
            Some(file) => file_entries(file)?,
            None => Vec::new(),
        };
        let from_env = env_entries(&env)?;
        let master_switch = sdk_disabled_entries(&env);
        let from_builder = self.settings.into_iter().map(|setting| Entry {
            raw: setting.to_string(),
            setting,
            origin: Origin::Builder,
        });
        let entries: Vec<Entry> = from_file
            .into_iter()
            .chain(from_env)
            .chain(from_builder)
            .chain(master_switch)
            .collect();

        // The last source to name a profile wins, like for any other key.
        let profile = entries
            .iter()
            .rev()
            .find_map(|e| match e.setting {
                Setting::Profile(p) => Some(p),
                _ => None,
            })
            .unwrap_or_else(Profile::compiled_default);

        let mut draft = Draft::new(profile);
        if let Some(path) = file_read {
            draft.config.sources.set_file(path);
        }
        for entry in entries {
            draft.accept(entry)?;
        }
        Ok(draft.finish(&env))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_names_become_safe_path_components() {
        assert_eq!(path_component("checkout-api"), "checkout-api");
        assert_eq!(path_component("../etc/passwd"), ".._etc_passwd");
        assert_eq!(path_component(".."), "__");
        assert_eq!(path_component("a b/c"), "a_b_c");
    }
}
