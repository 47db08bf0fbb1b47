//! The `o11y.toml` source: which file to read ([`FileChoice`],
//! `O11Y_CONFIG`, `./o11y.toml`), parsing it with positions for error
//! messages, and turning its keys and sections into entries, native TOML
//! types included.

use std::path::{Path, PathBuf};

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::env::Env;
use super::error::line_column;
use super::keys::{KNOWN_KEYS, Key, Kind, KnownKey, is_section, suggest};
use super::value::{Entry, Refusal, Setting, parse_list, parse_text};
use super::{ConfigError, Origin};

/// The config file read when none is named, relative to the working directory.
const DEFAULT_CONFIG_FILE: &str = "./o11y.toml";
const CONFIG_FILE_VAR: &str = "O11Y_CONFIG";

/// Which config file to read, as chosen on the builder.
#[derive(Debug, Clone, Default)]
pub(super) enum FileChoice {
    /// `O11Y_CONFIG`, else `./o11y.toml` when it exists.
    #[default]
    Auto,
    Path(PathBuf),
    None,
}

/// A located config file. `required` is false only for the default path,
/// whose absence is normal.
pub(super) struct ConfigFile {
    path: PathBuf,
    named_by: Origin,
    required: bool,
}

impl ConfigFile {
    /// The file as it was named.
    pub(super) fn path(&self) -> &Path {
        &self.path
    }
}

pub(super) fn locate_file(choice: &FileChoice, env: &Env) -> Option<ConfigFile> {
    let (path, named_by, required) = match choice {
        FileChoice::None => return None,
        FileChoice::Path(p) => (p.clone(), Origin::Builder, true),
        FileChoice::Auto => match env.get(CONFIG_FILE_VAR) {
            Some(p) => (PathBuf::from(p), Origin::env(CONFIG_FILE_VAR), true),
            None => (PathBuf::from(DEFAULT_CONFIG_FILE), Origin::Default, false),
        },
    };
    Some(ConfigFile {
        path,
        named_by,
        required,
    })
}

/// Reads and parses the file; `Ok(empty)` when the default file is absent.
pub(super) fn file_entries(file: ConfigFile) -> Result<Vec<Entry>, ConfigError> {
    let bytes = match std::fs::read(&file.path) {
        Ok(bytes) => bytes,
        Err(e) if !file.required && e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Vec::new());
        }
        Err(source) => {
            return Err(ConfigError::Io {
                path: file.path,
                origin: file.named_by,
                source,
            });
        }
    };
    entries_of(&file.path, bytes)
}

/// The entries of a config file's contents, `bytes`, read from `path`
/// (named in error messages).
pub(super) fn entries_of(path: &Path, bytes: Vec<u8>) -> Result<Vec<Entry>, ConfigError> {
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let text = String::from_utf8_lossy(valid);
            return Err(parse_error(path, &text, text.len(), "not valid UTF-8"));
        }
    };
    let table = DeTable::parse(&text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        parse_error(path, &text, offset, e.message())
    })?;
    let reader = FileReader { path, text: &text };
    let mut entries = Vec::new();
    reader.read_table(table.get_ref(), None, &mut entries)?;
    // Apply in table order, not file order, so the result does not depend
    // on how the file is arranged (see KNOWN_KEYS). The sort is stable.
    entries.sort_by_key(|e| e.setting.key() as usize);
    Ok(entries)
}

fn parse_error(path: &Path, text: &str, offset: usize, message: &str) -> ConfigError {
    let (line, column) = line_column(text, offset);
    ConfigError::Parse {
        path: path.to_owned(),
        line,
        column,
        message: message.to_owned(),
    }
}

/// Walks a parsed file, turning values into entries with their positions.
struct FileReader<'a> {
    path: &'a Path,
    text: &'a str,
}

impl FileReader<'_> {
    fn origin(&self, offset: usize) -> Origin {
        Origin::in_file(self.path, self.text, offset)
    }

    /// The source text of a value, for error messages; a string's contents.
    fn raw(&self, value: &Spanned<DeValue<'_>>) -> String {
        match value.get_ref() {
            DeValue::String(s) => s.to_string(),
            other => self
                .text
                .get(value.span())
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .unwrap_or(other.type_str())
                .to_owned(),
        }
    }

    fn read_table(
        &self,
        table: &DeTable<'_>,
        section: Option<&str>,
        entries: &mut Vec<Entry>,
    ) -> Result<(), ConfigError> {
        for (name, value) in table.iter() {
            let dotted = match section {
                Some(section) => format!("{section}.{}", name.get_ref()),
                None => name.get_ref().to_string(),
            };
            if let Some(def) = Key::by_name(&dotted) {
                self.read_value(def, value, entries)?;
            } else if is_section(&dotted) {
                let DeValue::Table(inner) = value.get_ref() else {
                    return Err(ConfigError::Invalid {
                        key: dotted.clone(),
                        value: self.raw(value),
                        origin: self.origin(value.span().start),
                        expected: format!("a [{dotted}] table"),
                    });
                };
                self.read_table(inner, Some(&dotted), entries)?;
            } else {
                return Err(ConfigError::UnknownKey {
                    suggestion: suggest(&dotted, &file_key_candidates(section.is_none()))
                        .map(str::to_owned),
                    key: dotted,
                    origin: self.origin(name.span().start),
                });
            }
        }
        Ok(())
    }

    fn read_value(
        &self,
        def: &KnownKey,
        value: &Spanned<DeValue<'_>>,
        entries: &mut Vec<Entry>,
    ) -> Result<(), ConfigError> {
        match (def.kind, value.get_ref()) {
            (Kind::Table, DeValue::Table(table)) => {
                return self.read_attribute_table(def, table, entries);
            }
            (Kind::List, DeValue::Array(items)) => {
                return self.read_list(def, value, items, entries);
            }
            _ => {}
        }
        let raw = self.raw(value);
        let origin = self.origin(value.span().start);
        match from_toml(def, value.get_ref()) {
            Ok(setting) => {
                entries.push(Entry {
                    setting,
                    raw,
                    origin,
                });
                Ok(())
            }
            Err(refusal) => Err(refusal.into_error(def.key, &raw, origin)),
        }
    }

    /// An array of strings (`allow_from = ["10.0.0.0/8", "127.0.0.1"]`):
    /// each item read like the comma-separated text form and reported at its
    /// own position; one entry for the whole list, which replaces the value
    /// of lower sources.
    fn read_list(
        &self,
        def: &KnownKey,
        value: &Spanned<DeValue<'_>>,
        items: &[Spanned<DeValue<'_>>],
        entries: &mut Vec<Entry>,
    ) -> Result<(), ConfigError> {
        let mut texts = Vec::with_capacity(items.len());
        for item in items {
            let raw = self.raw(item);
            let origin = self.origin(item.span().start);
            let DeValue::String(text) = item.get_ref() else {
                let found = format!("found a TOML {} in the array", item.get_ref().type_str());
                return Err(Refusal::because(found).into_error(def.key, &raw, origin));
            };
            let text: &str = text;
            // Each item alone, so an error points at the item.
            parse_list(def.key, &[text])
                .map_err(|refusal| refusal.into_error(def.key, &raw, origin))?;
            texts.push(text);
        }
        // Each element one item, never split at the separator again.
        let setting = parse_list(def.key, &texts).map_err(|refusal| {
            refusal.into_error(def.key, &self.raw(value), self.origin(value.span().start))
        })?;
        entries.push(Entry {
            setting,
            raw: self.raw(value),
            origin: self.origin(value.span().start),
        });
        Ok(())
    }

    /// `[resource_attributes]`: each entry a string, reported at its own
    /// position.
    fn read_attribute_table(
        &self,
        def: &KnownKey,
        table: &DeTable<'_>,
        entries: &mut Vec<Entry>,
    ) -> Result<(), ConfigError> {
        for (name, value) in table.iter() {
            let raw = self.raw(value);
            let origin = self.origin(value.span().start);
            let DeValue::String(text) = value.get_ref() else {
                let found = format!("found a TOML {}", value.get_ref().type_str());
                return Err(Refusal::because(found).into_error(def.key, &raw, origin));
            };
            entries.push(Entry {
                setting: Setting::ResourceAttributes(vec![(
                    name.get_ref().to_string(),
                    text.to_string(),
                )]),
                raw,
                origin,
            });
        }
        Ok(())
    }
}

/// Reads a TOML value of `def`. Strings go through [`parse_text`], like
/// environment values; native TOML types are accepted where they fit.
fn from_toml(def: &KnownKey, value: &DeValue<'_>) -> Result<Setting, Refusal> {
    let mismatch = || Refusal::because(format!("found a TOML {}", value.type_str()));
    match (def.kind, value) {
        (_, DeValue::String(text)) => parse_text(def.key, text),
        (Kind::Bool, DeValue::Boolean(b)) => parse_text(def.key, if *b { "true" } else { "false" }),
        (Kind::Number, DeValue::Float(f)) => parse_text(def.key, f.as_str()),
        (Kind::Number | Kind::Integer | Kind::Duration, DeValue::Integer(i)) => {
            // Radix-aware (0x10), then as decimal text; an integer too big
            // for i64 is refused rather than wrapped.
            let n = i64::from_str_radix(i.as_str(), i.radix()).map_err(|_| mismatch())?;
            parse_text(def.key, &n.to_string())
        }
        _ => Err(mismatch()),
    }
}

/// Known file keys, and the section names when the unknown key is itself
/// top-level (inside a section, a section name is never the fix).
pub(super) fn file_key_candidates(top_level: bool) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = KNOWN_KEYS.iter().map(|k| k.name).collect();
    for k in KNOWN_KEYS.iter().filter(|_| top_level) {
        if let Some((section, _)) = k.name.split_once('.')
            && !names.contains(&section)
        {
            names.push(section);
        }
    }
    names
}
