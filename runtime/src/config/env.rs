//! The environment source: [`Env`], a snapshot of the variables, and the
//! entries it yields from the `O11Y_*` variables and, below them, the
//! standard ones (`OTEL_*`, `RUST_LOG`), including the `OTEL_TRACES_SAMPLER`
//! and `OTEL_SDK_DISABLED` mappings; unknown `O11Y_*` variables are refused
//! unless [`ENV_ALLOWLIST`] lets them through.

use std::collections::BTreeMap;

use super::keys::{
    KNOWN_KEYS, Key, SAMPLER_ARG_VAR, SAMPLER_VAR, SDK_DISABLED_VAR, SIGNAL_ENDPOINT_VARS,
    SIGNAL_PROTOCOL_VARS, suggest,
};
use super::table::Redact;
use super::value::{Entry, Setting, check, parse_protocol, parse_text, redacted};
use super::{ConfigError, Origin, OtlpSignal};

/// A snapshot of the environment; empty (or blank) values are dropped, as
/// if unset, and values are trimmed.
#[derive(Debug, Default)]
pub(super) struct Env {
    vars: BTreeMap<String, String>,
}

impl Env {
    pub(super) fn from_pairs(pairs: &[(String, String)]) -> Env {
        let mut env = Env::default();
        for (name, value) in pairs {
            env.insert(name, value);
        }
        env
    }

    /// The process environment. A variable o11y reads whose value is not
    /// UTF-8 is an error rather than something to guess at; other
    /// variables are none of our business and are skipped.
    pub(super) fn from_process() -> Result<Env, ConfigError> {
        let mut env = Env::default();
        for (name, value) in std::env::vars_os() {
            let Ok(name) = name.into_string() else {
                continue;
            };
            match value.into_string() {
                Ok(value) => env.insert(&name, &value),
                Err(value) if Env::read_by_o11y(&name) => {
                    let def = Key::by_env(&name);
                    let key = def.map_or(name.as_str(), |k| k.name);
                    let value = value.to_string_lossy();
                    let value = match def {
                        Some(def) if def.redact == Redact::Secret => redacted(&value),
                        _ => &value,
                    };
                    return Err(ConfigError::Invalid {
                        key: key.to_owned(),
                        value: value.to_owned(),
                        origin: Origin::env(&name),
                        expected: "valid UTF-8 text".to_owned(),
                    });
                }
                Err(_) => {}
            }
        }
        Ok(env)
    }

    fn read_by_o11y(name: &str) -> bool {
        name.starts_with("O11Y_")
            || KNOWN_KEYS
                .iter()
                .any(|def| def.alias == Some(name) || def.also.contains(&name))
    }

    fn insert(&mut self, name: &str, value: &str) {
        let value = value.trim();
        if value.is_empty() {
            self.vars.remove(name);
        } else {
            self.vars.insert(name.to_owned(), value.to_owned());
        }
    }

    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }
}

/// Each signal's own endpoint and protocol variables.
fn signal_vars() -> impl Iterator<Item = (OtlpSignal, &'static str, &'static str)> {
    OtlpSignal::ALL
        .into_iter()
        .zip(SIGNAL_ENDPOINT_VARS)
        .zip(SIGNAL_PROTOCOL_VARS)
        .map(|((signal, endpoint), protocol)| (signal, endpoint, protocol))
}

/// Everything the environment sets, in the order to apply it.
pub(super) fn env_entries(env: &Env) -> Result<Vec<Entry>, ConfigError> {
    reject_unknown_env(env)?;
    let mut entries = Vec::new();
    // Standard variables that map onto one key, below their `O11Y_*` twins
    // (applied after them, so they win).
    for def in KNOWN_KEYS {
        if let Some(var) = def.alias
            && let Some(text) = env.get(var)
        {
            entries.push(text_entry(def.key, text, Origin::env(var))?);
        }
    }
    signal_entries(env, &mut entries)?;
    sampler_entries(env, &mut entries)?;
    for def in KNOWN_KEYS {
        if let Some(text) = env.get(def.env) {
            entries.push(text_entry(def.key, text, Origin::env(def.env))?);
        }
    }
    // The environment is one source: its explicit service name and version
    // (`OTEL_SERVICE_NAME`, `O11Y_SERVICE_NAME`) win over `service.name` in
    // either variable of resource attributes, so those apply first. A
    // stable sort: everything else keeps its order.
    entries.sort_by_key(|entry| !matches!(entry.setting, Setting::ResourceAttributes(_)));
    Ok(entries)
}

fn text_entry(key: Key, text: &str, origin: Origin) -> Result<Entry, ConfigError> {
    match parse_text(key, text) {
        Ok(setting) => Ok(Entry {
            setting,
            raw: text.to_owned(),
            origin,
        }),
        Err(refusal) => Err(refusal.into_error(key, text, origin)),
    }
}

fn reject_unknown_env(env: &Env) -> Result<(), ConfigError> {
    let unknown = env
        .vars
        .keys()
        .filter(|v| v.starts_with("O11Y_"))
        .find(|v| !env_allowed(v) && Key::by_env(v).is_none());
    match unknown {
        None => Ok(()),
        Some(var) => Err(ConfigError::UnknownKey {
            key: var.clone(),
            origin: Origin::env(var),
            suggestion: suggest(var, &env_candidates()).map(str::to_owned),
        }),
    }
}

/// `OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT` and `_PROTOCOL`: one signal's
/// own destination.
fn signal_entries(env: &Env, entries: &mut Vec<Entry>) -> Result<(), ConfigError> {
    for (signal, endpoint_var, protocol_var) in signal_vars() {
        if let Some(url) = env.get(endpoint_var) {
            entries.push(Entry {
                setting: Setting::SignalEndpoint(signal, url.to_owned()),
                raw: url.to_owned(),
                origin: Origin::env(endpoint_var),
            });
        }
        if let Some(text) = env.get(protocol_var) {
            let origin = Origin::env(protocol_var);
            let protocol = parse_protocol(text)
                .map_err(|refusal| refusal.into_error(Key::OtlpProtocol, text, origin.clone()))?;
            entries.push(Entry {
                setting: Setting::SignalProtocol(signal, protocol),
                raw: text.to_owned(),
                origin,
            });
        }
    }
    Ok(())
}

/// The rate half of an `OTEL_TRACES_SAMPLER` value.
enum SamplerRate {
    Fixed(f64),
    FromArg,
}

const SAMPLERS: &[(&str, SamplerRate, bool)] = &[
    ("always_on", SamplerRate::Fixed(1.0), false),
    ("always_off", SamplerRate::Fixed(0.0), false),
    ("traceidratio", SamplerRate::FromArg, false),
    ("parentbased_always_on", SamplerRate::Fixed(1.0), true),
    ("parentbased_always_off", SamplerRate::Fixed(0.0), true),
    ("parentbased_traceidratio", SamplerRate::FromArg, true),
];

/// `OTEL_TRACES_SAMPLER` sets the rate and parent-basedness;
/// `OTEL_TRACES_SAMPLER_ARG` the rate of the ratio samplers (or, with no
/// sampler named, the rate alone). A ratio sampler without an argument keeps
/// the rate configured so far rather than the spec's 1.0: here a rate always
/// exists (profile or file), and silently raising it to 100% would be the
/// costly surprise.
fn sampler_entries(env: &Env, entries: &mut Vec<Entry>) -> Result<(), ConfigError> {
    // Parsed and range-checked even when it ends up unused (with
    // `always_on`, say), so a bad value never goes unseen.
    let arg = env
        .get(SAMPLER_ARG_VAR)
        .map(|text| {
            let origin = Origin::env(SAMPLER_ARG_VAR);
            let entry = text_entry(Key::SampleRate, text, origin.clone())?;
            check(&entry.setting)
                .map_err(|refusal| refusal.into_error(Key::SampleRate, text, origin))?;
            Ok::<_, ConfigError>(entry)
        })
        .transpose()?;
    let Some(name) = env.get(SAMPLER_VAR) else {
        entries.extend(arg);
        return Ok(());
    };
    let origin = Origin::env(SAMPLER_VAR);
    let lower = name.to_ascii_lowercase();
    let Some((_, rate, parent_based)) = SAMPLERS.iter().find(|(n, ..)| *n == lower) else {
        let names: Vec<&str> = SAMPLERS.iter().map(|(n, ..)| *n).collect();
        return Err(ConfigError::Invalid {
            key: Key::SampleRate.def().name.to_owned(),
            value: name.to_owned(),
            origin,
            expected: format!("one of {}", names.join(", ")),
        });
    };
    match rate {
        SamplerRate::Fixed(r) => entries.push(Entry {
            setting: Setting::SampleRate(*r),
            raw: name.to_owned(),
            origin: origin.clone(),
        }),
        SamplerRate::FromArg => entries.extend(arg),
    }
    entries.push(Entry {
        setting: Setting::ParentBased(*parent_based),
        raw: name.to_owned(),
        origin,
    });
    Ok(())
}

/// `OTEL_SDK_DISABLED=true` turns off tracing and every OTLP export. It is
/// the operator's master switch (as the OpenTelemetry specification means
/// it), so the caller applies these entries after every other source,
/// `O11Y_*` variables and the builder included.
pub(super) fn sdk_disabled_entries(env: &Env) -> Vec<Entry> {
    let Some(text) = env.get(SDK_DISABLED_VAR) else {
        return Vec::new();
    };
    // The specification's boolean: only `true` (any case) is true; any
    // other value is false, and said so when it is not `false`.
    if !text.trim().eq_ignore_ascii_case("true") {
        if !text.trim().eq_ignore_ascii_case("false") {
            eprintln!(
                "o11y: {SDK_DISABLED_VAR}={text} is neither true nor false; read as false \
                 (the OpenTelemetry specification's rule), so telemetry stays on"
            );
        }
        return Vec::new();
    }
    let off = [
        Setting::TracingEnabled(false),
        Setting::LogOtlpEnabled(false),
        Setting::MetricsOtlpEnabled(false),
    ];
    off.into_iter()
        .map(|setting| Entry {
            setting,
            raw: text.to_owned(),
            origin: Origin::env(SDK_DISABLED_VAR),
        })
        .collect()
}

/// `O11Y_*` variables that are not configuration keys and must not be
/// reported as unknown. A trailing `*` matches any suffix (the test
/// tooling's variables, e.g. `O11Y_REQUIRE_PEERS`). `O11Y_PROFILE` is also a
/// key; it is listed because it is read before everything else.
/// `O11Y_COMMAND` and its arguments say what one run does (see the
/// `command` module), not how the program is observed.
const ENV_ALLOWLIST: &[&str] = &[
    "O11Y_PROFILE",
    "O11Y_CONFIG",
    "O11Y_COMMAND",
    "O11Y_COMMAND_ARGS",
    "O11Y_TEST*",
    "O11Y_REQUIRE*",
    "O11Y_PEERS*",
];

fn env_allowed(var: &str) -> bool {
    ENV_ALLOWLIST
        .iter()
        .any(|allowed| match allowed.strip_suffix('*') {
            Some(prefix) => var.starts_with(prefix),
            None => var == *allowed,
        })
}

pub(super) fn env_candidates() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = KNOWN_KEYS.iter().map(|k| k.env).collect();
    for allowed in ENV_ALLOWLIST.iter().filter(|a| !a.ends_with('*')) {
        if !names.contains(allowed) {
            names.push(allowed);
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_allowlist_matches_names_and_prefixes() {
        assert!(env_allowed("O11Y_CONFIG"));
        assert!(env_allowed("O11Y_PROFILE"));
        assert!(env_allowed("O11Y_REQUIRE_PEERS"));
        assert!(env_allowed("O11Y_TEST_ANYTHING"));
        assert!(env_allowed("O11Y_COMMAND"));
        assert!(env_allowed("O11Y_COMMAND_ARGS"));
        assert!(!env_allowed("O11Y_CONFIGS"));
        assert!(!env_allowed("O11Y_TRACING_SAMPEL_RATE"));
    }

    #[test]
    fn empty_environment_values_are_unset() {
        let env = Env::from_pairs(&[
            ("A".to_owned(), "".to_owned()),
            ("B".to_owned(), "  ".to_owned()),
            ("C".to_owned(), " x ".to_owned()),
        ]);
        assert_eq!(env.get("A"), None);
        assert_eq!(env.get("B"), None);
        assert_eq!(env.get("C"), Some("x"));
    }
}
