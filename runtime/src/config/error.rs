//! Errors of the configuration loader, and [`Origin`]: where a value came
//! from, so every message can point at the file position, environment
//! variable or builder call to fix.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where a configuration value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Origin {
    /// The profile defaults (or a value derived from them, like the log
    /// file path).
    Default,
    /// A position in a config file; `line` and `column` are 1-based and the
    /// column counts characters, as editors do.
    File {
        /// The file as it was named (`./o11y.toml`, or the `O11Y_CONFIG` path).
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        column: usize,
    },
    /// An environment variable, by name.
    Env(String),
    /// A [`ConfigBuilder`](super::ConfigBuilder) setter.
    Builder,
}

impl Origin {
    /// The origin of the byte `offset` of `text`, the contents of `path`.
    pub(super) fn in_file(path: &Path, text: &str, offset: usize) -> Origin {
        let (line, column) = line_column(text, offset);
        Origin::File {
            path: path.to_owned(),
            line,
            column,
        }
    }

    /// An environment variable origin.
    pub(super) fn env(name: &str) -> Origin {
        Origin::Env(name.to_owned())
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("the profile defaults"),
            Origin::File { path, line, column } => {
                write!(f, "{}:{line}:{column}", path.display())
            }
            Origin::Env(name) => write!(f, "environment variable {name}"),
            Origin::Builder => f.write_str("Config::builder()"),
        }
    }
}

/// A configuration that cannot be used. Each message is one sentence naming
/// the key, the offending value, where it came from and what is allowed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A value of a known key that does not parse or is out of range.
    #[error("invalid {key} = {} (from {origin}): expected {expected}", quoted(.value))]
    Invalid {
        /// Dotted `o11y.toml` name, e.g. `tracing.sample_rate`.
        key: String,
        /// The value as written (for a builder call, as formatted).
        value: String,
        /// Where the value came from.
        origin: Origin,
        /// What is allowed.
        expected: String,
    },
    /// A key in `o11y.toml`, or an `O11Y_*` environment variable, that
    /// o11y does not know; almost always a typo.
    #[error("{}", unknown_key_message(.key, .origin, .suggestion.as_deref()))]
    UnknownKey {
        /// Dotted name for a file key (`tracing.sample_rat`), the variable
        /// name for an environment variable (`O11Y_TRACING_SAMPEL_RATE`).
        key: String,
        /// Where the key was found.
        origin: Origin,
        /// The closest known key, in the same spelling as `key`.
        suggestion: Option<String>,
    },
    /// The config file is not valid TOML.
    #[error("malformed TOML in {}:{line}:{column}: {message}", .path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem, in characters.
        column: usize,
        /// The parser's description.
        message: String,
    },
    /// A config file that was asked for (by `O11Y_CONFIG`,
    /// [`ConfigBuilder::config_file`](super::ConfigBuilder::config_file), or
    /// an existing `./o11y.toml`) cannot be read.
    #[error("cannot read config file {} (named by {origin}): {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What named the file; [`Origin::Default`] for `./o11y.toml`.
        origin: Origin,
        /// Why it could not be read.
        source: std::io::Error,
    },
}

impl ConfigError {
    /// The dotted key (or, for an unknown environment variable, its name).
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::Invalid { key, .. } | ConfigError::UnknownKey { key, .. } => Some(key),
            ConfigError::Parse { .. } | ConfigError::Io { .. } => None,
        }
    }

    /// The offending value, for [`ConfigError::Invalid`].
    pub fn value(&self) -> Option<&str> {
        match self {
            ConfigError::Invalid { value, .. } => Some(value),
            _ => None,
        }
    }

    /// Where the offending value, key or file name came from. A TOML syntax
    /// error reports its position as an [`Origin::File`].
    pub fn origin(&self) -> Option<Origin> {
        match self {
            ConfigError::Invalid { origin, .. }
            | ConfigError::UnknownKey { origin, .. }
            | ConfigError::Io { origin, .. } => Some(origin.clone()),
            ConfigError::Parse {
                path, line, column, ..
            } => Some(Origin::File {
                path: path.clone(),
                line: *line,
                column: *column,
            }),
        }
    }

    /// The did-you-mean suggestion, for [`ConfigError::UnknownKey`].
    pub fn suggestion(&self) -> Option<&str> {
        match self {
            ConfigError::UnknownKey { suggestion, .. } => suggestion.as_deref(),
            _ => None,
        }
    }
}

/// Values this long are cut in messages: an environment variable can hold
/// anything, and the message must stay one readable line.
const MAX_SHOWN_VALUE_CHARS: usize = 120;

/// The value in double quotes, escaped, and cut when very long.
fn quoted(value: &str) -> String {
    match value.char_indices().nth(MAX_SHOWN_VALUE_CHARS) {
        Some((cut, _)) => format!("{:?}…", &value[..cut]),
        None => format!("{value:?}"),
    }
}

fn unknown_key_message(key: &str, origin: &Origin, suggestion: Option<&str>) -> String {
    let mut message = match origin {
        // The variable name is the key: naming it twice would read badly.
        Origin::Env(_) => format!("unknown environment variable {key}"),
        Origin::File { .. } => format!("unknown key {key} in {origin}"),
        Origin::Default | Origin::Builder => format!("unknown key {key} (from {origin})"),
    };
    match suggestion {
        Some(s) => message.push_str(&format!("; did you mean {s}?")),
        None if matches!(origin, Origin::Env(_)) => {
            message.push_str("; o11y reads only the O11Y_* variables listed in its config docs")
        }
        None => message.push_str("; see the config docs for the known keys"),
    }
    message
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
///
/// An offset past the end, or inside a multi-byte character, is moved back
/// to the nearest character start, so any offset a parser reports is safe.
pub(super) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.matches('\n').count() + 1;
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_is_one_based() {
        let text = "a = 1\n[tracing]\nsample_rate = 2\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 4), (1, 5));
        assert_eq!(line_column(text, 6), (2, 1));
        assert_eq!(line_column(text, 16), (3, 1));
        assert_eq!(line_column(text, 30), (3, 15));
    }

    #[test]
    fn line_column_counts_characters_not_bytes() {
        let text = "name = \"é\" x";
        // 'x' is byte 12 but character 11.
        assert_eq!(line_column(text, 12), (1, 12));
        // Inside 'é' (bytes 8..10): moved back to its start.
        assert_eq!(line_column(text, 9), (1, 9));
    }

    #[test]
    fn line_column_clamps_out_of_range_offsets() {
        assert_eq!(line_column("ab\ncd", 99), (2, 3));
        assert_eq!(line_column("", 5), (1, 1));
    }

    #[test]
    fn origin_display() {
        let file = Origin::File {
            path: "./o11y.toml".into(),
            line: 3,
            column: 15,
        };
        assert_eq!(file.to_string(), "./o11y.toml:3:15");
        assert_eq!(
            Origin::env("O11Y_TRACING_SAMPLE_RATE").to_string(),
            "environment variable O11Y_TRACING_SAMPLE_RATE"
        );
        assert_eq!(Origin::Builder.to_string(), "Config::builder()");
    }

    #[test]
    fn long_values_are_cut() {
        let long = "x".repeat(500);
        let shown = quoted(&long);
        assert!(shown.len() < 130, "{shown}");
        assert!(shown.ends_with('…'));
        assert_eq!(quoted("a\"b"), r#""a\"b""#);
    }
}
