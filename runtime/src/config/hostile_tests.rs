//! Property tests of the configuration readers against hostile input:
//! values of every key, whole environments, and `o11y.toml` files. Reading
//! never panics; a refusal names the key and never shows a secret; an
//! accepted value is within its key's bounds and reads back the same from
//! the form messages and the docs show it in; a file points its errors
//! inside itself, and a file a TOML writer wrote reads like the values it
//! holds. Named `hostile_*` for `scripts/fuzz.sh`.

use std::path::Path;
use std::time::Duration;

use proptest::prelude::*;

use super::file::entries_of;
use super::keys::{KNOWN_KEYS, Key, KnownKey, SAMPLER_ARG_VAR, SAMPLER_VAR, SDK_DISABLED_VAR};
use super::table::Redact;
use super::value::{Setting, check, parse_text};
use super::{Config, ConfigError, Origin};

/// Text shaped like the values keys take (booleans, numbers, durations,
/// URLs, addresses, filters, lists, attributes), valid or nearly, or
/// anything at all.
fn value_like() -> impl Strategy<Value = String> {
    prop_oneof![
        "(true|false|TRUE|1|0|yes|no|on|off|maybe|)",
        "-?[0-9]{0,3}(\\.[0-9]{0,20})?(e-?[0-9]{1,3})?",
        "(NaN|inf|-inf|1e309|-0|0x10|18446744073709551616)",
        "[0-9]{0,22}( ?(ns|us|ms|s|m|h|d|w|y|M|min|sec))?( [0-9]{1,3}(ms|s|m))?",
        "(https?|ftp|grpc|)(://)?[a-z:@.]{0,12}(:[0-9]{0,6})?(/[a-z%]{0,4})?",
        "\\[?[0-9a-f:.]{0,20}\\]?:[0-9]{0,6}",
        "[a-z_:=,\\[\\]{}.0-9\"]{0,20}",
        "([0-9.:/a-f]{0,16}[,;] ?){0,4}",
        "([a-z.%0-9A-F]{0,6}=[a-z.%0-9A-F ]{0,6},?){0,4}",
        "(dev|prod|test|warn|raise|off|console|json|grpc|http/protobuf|http)",
        "[ -~]{0,40}",
        any::<String>(),
    ]
}

/// A known key, by its index in the table.
fn known_key() -> impl Strategy<Value = &'static KnownKey> {
    (0..KNOWN_KEYS.len()).prop_map(|index| &KNOWN_KEYS[index])
}

/// The shown form of a setting reads back as the setting: for every key
/// but a secret (shown as `***`) and resource attributes (shown with their
/// values as they are, not percent-encoded).
fn shown_form_reads_back(def: &KnownKey) -> bool {
    def.redact != Redact::Secret && def.key != Key::ResourceAttributes
}

/// Checks `error`, refusing `raw` for `def`: it names the key, and shows
/// nothing of a secret.
fn assert_clear(error: &ConfigError, def: &KnownKey, raw: &str) -> Result<(), TestCaseError> {
    prop_assert_eq!(error.key(), Some(def.name));
    prop_assert!(error.to_string().contains(def.name), "{}", error);
    if def.redact == Redact::Secret {
        let shown = if raw.is_empty() { "" } else { "***" };
        prop_assert_eq!(error.value(), Some(shown));
    }
    Ok(())
}

/// The bounds the checks promise, on a configuration that was accepted.
fn assert_within_bounds(config: &Config) -> Result<(), TestCaseError> {
    let rate = config.tracing.sample_rate;
    prop_assert!((0.0..=1.0).contains(&rate), "sample_rate {}", rate);
    prop_assert!(config.shutdown_timeout > Duration::ZERO);
    prop_assert!(config.shutdown_timeout <= Duration::from_secs(600));
    let interval = config.metrics.otlp_interval;
    prop_assert!((Duration::from_secs(1)..=Duration::from_secs(3600)).contains(&interval));
    prop_assert!(config.db.n_plus_one.threshold >= 2);
    prop_assert!(config.metrics.series_cap >= 1);
    prop_assert!(!config.service_name.trim().is_empty());
    Ok(())
}

/// An environment variable o11y reads, or one it does not know.
fn variable() -> impl Strategy<Value = String> {
    let known: Vec<&'static str> = KNOWN_KEYS
        .iter()
        .flat_map(|def| {
            [def.env]
                .into_iter()
                .chain(def.alias)
                .chain(def.also.iter().copied())
        })
        .chain([SDK_DISABLED_VAR, SAMPLER_VAR, SAMPLER_ARG_VAR])
        .collect();
    prop_oneof![
        4 => prop::sample::select(known).prop_map(str::to_owned),
        1 => "O11Y_[A-Z_]{0,24}",
        1 => "[A-Z_]{1,12}",
    ]
}

/// Text shaped like an `o11y.toml`: section headers, known and unknown
/// keys, values of every TOML type, and broken lines.
fn toml_like() -> impl Strategy<Value = String> {
    let names: Vec<&'static str> = KNOWN_KEYS.iter().map(|def| def.name).collect();
    let section = prop_oneof![
        Just("tracing"),
        Just("logging"),
        Just("metrics"),
        Just("http"),
        Just("http.client"),
        Just("db"),
        Just("db.n_plus_one"),
        Just("resource_attributes"),
        Just("nope"),
    ];
    let key = prop_oneof![
        3 => prop::sample::select(names.clone()).prop_map(|name| name.rsplit('.').next().unwrap_or(name).to_owned()),
        2 => prop::sample::select(names).prop_map(str::to_owned),
        1 => "[a-z_]{1,10}",
        1 => "\"[ -~]{0,8}\"",
    ];
    let value = prop_oneof![
        3 => value_like().prop_map(|text| format!("{text:?}")),
        1 => "-?[0-9_]{1,22}(\\.[0-9]{0,4})?",
        1 => "(true|false|0x7fffffffffffffff|0o777|0b1|1979-05-27T07:32:00Z|inf|nan)",
        1 => "\\[ ?(\"[a-z0-9./]{0,8}\", ?|[0-9]{1,3}, ?){0,3}\\]",
        1 => "\\{ ?([a-z]{1,4} = \"[a-z]{0,4}\", ?){0,2}\\}",
        1 => "'[ -&(-~]{0,10}'",
    ];
    let line = prop_oneof![
        6 => (key, value).prop_map(|(key, value)| format!("{key} = {value}")),
        2 => section.prop_map(|section| format!("[{section}]")),
        1 => "[ -~]{0,20}",
        1 => "#[ -~]{0,10}",
    ];
    prop::collection::vec(line, 0..12).prop_map(|lines| lines.join("\n"))
}

/// A `toml::Table` holding `text` at the dotted `name`.
fn insert_dotted(table: &mut toml::Table, name: &str, text: &str) {
    let mut table = table;
    let mut parts = name.split('.').peekable();
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            table.insert(part.to_owned(), toml::Value::String(text.to_owned()));
            return;
        }
        let inner = table
            .entry(part.to_owned())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        let toml::Value::Table(inner) = inner else {
            unreachable!("no key is named like a section");
        };
        table = inner;
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        max_shrink_iters: 4096,
        ..ProptestConfig::default()
    })]

    #[test]
    fn hostile_config_values_read_back_from_their_shown_form(
        def in known_key(),
        text in value_like(),
    ) {
        match parse_text(def.key, &text) {
            Err(refusal) => {
                let error = refusal.into_error(def.key, &text, Origin::env(def.env));
                assert_clear(&error, def, &text)?;
            }
            Ok(setting) => {
                if check(&setting).is_ok() && shown_form_reads_back(def) {
                    let shown = setting.to_string();
                    prop_assert_eq!(parse_text(def.key, &shown), Ok(setting), "shown as {:?}", shown);
                }
            }
        }
    }

    #[test]
    fn hostile_config_environments_are_refused_clearly_or_within_bounds(
        vars in prop::collection::vec((variable(), value_like()), 0..6),
    ) {
        let result = Config::builder().no_config_file().env_vars(vars.clone()).build();
        match result {
            Ok(config) => assert_within_bounds(&config)?,
            Err(error) => {
                let message = error.to_string();
                prop_assert!(!message.is_empty());
                let key = error.key();
                prop_assert!(key.is_some(), "{}", message);
                prop_assert!(message.contains(key.unwrap_or_default()), "{}", message);
                // A secret's value is never shown, whichever variable set it.
                if let Some(def) = KNOWN_KEYS.iter().find(|def| Some(def.name) == key)
                    && def.redact == Redact::Secret
                {
                    prop_assert!(matches!(error.value(), Some("***" | "") | None), "{}", message);
                }
            }
        }
    }

    #[test]
    fn hostile_config_files_point_their_errors_inside_themselves(
        text in prop_oneof![
            4 => toml_like().prop_map(String::into_bytes),
            1 => prop::collection::vec(any::<u8>(), 0..200),
        ],
    ) {
        let lines = text.split(|b| *b == b'\n').count();
        match entries_of(Path::new("hostile.toml"), text) {
            Ok(entries) => {
                for entry in entries {
                    let Origin::File { line, column, .. } = entry.origin else {
                        return Err(TestCaseError::fail("an entry of a file comes from the file"));
                    };
                    prop_assert!((1..=lines).contains(&line) && column >= 1);
                }
            }
            Err(error) => {
                prop_assert!(!error.to_string().is_empty());
                if let Some(Origin::File { line, column, .. }) = error.origin() {
                    prop_assert!((1..=lines).contains(&line) && column >= 1, "{}", error);
                }
            }
        }
    }

    #[test]
    fn hostile_config_files_written_by_a_toml_writer_read_like_their_values(
        values in prop::collection::btree_map(0..KNOWN_KEYS.len(), value_like(), 1..5),
    ) {
        let mut table = toml::Table::new();
        for (&index, text) in &values {
            insert_dotted(&mut table, KNOWN_KEYS[index].name, text);
        }
        let written = toml::to_string(&table).expect("a table of strings is writable");
        let read = entries_of(Path::new("written.toml"), written.clone().into_bytes());
        let parsed: Vec<(&KnownKey, &String, Result<Setting, _>)> = values
            .iter()
            .map(|(&index, text)| {
                let def = &KNOWN_KEYS[index];
                (def, text, parse_text(def.key, text))
            })
            .collect();
        match read {
            Ok(entries) => {
                // Compared as shown by `Debug`: a NaN read (and refused by
                // the checks, later) is not equal to itself.
                let read: Vec<String> = entries
                    .into_iter()
                    .map(|entry| format!("{:?}", entry.setting))
                    .collect();
                // In table order, as the reader sorts them.
                let expected: Vec<Setting> = parsed
                    .into_iter()
                    .map(|(_, _, parsed)| parsed)
                    .collect::<Result<_, _>>()
                    .map_err(|refusal| TestCaseError::fail(format!("{refusal:?} was accepted in {written}")))?;
                let expected: Vec<String> = expected.iter().map(|setting| format!("{setting:?}")).collect();
                prop_assert_eq!(read, expected);
            }
            Err(error) => {
                // Refused for one of the values that do not parse, as
                // that value's own error.
                let refused = parsed
                    .iter()
                    .find(|(def, _, parsed)| parsed.is_err() && Some(def.name) == error.key());
                prop_assert!(refused.is_some(), "{} in {}", error, written);
                if let Some((def, text, _)) = refused {
                    assert_clear(&error, def, text)?;
                }
            }
        }
    }
}
