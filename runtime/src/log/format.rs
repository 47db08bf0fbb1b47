//! The two line formats: JSON (one object per line, ARCHITECTURE.md §4) and
//! the human console line of the dev profile.

use std::fmt::Write as _;

use tracing_core::Level;

use crate::value::FieldValue;

use super::fields::Key;

/// Keys every JSON line owns; a user field with one of these names is
/// written as `field.<name>` rather than producing a duplicate key.
const RESERVED: [&str; 8] = [
    "timestamp",
    "level",
    "event",
    "logger",
    "file",
    "line",
    "trace_id",
    "span_id",
];

/// Everything one log line is made of.
pub(crate) struct Line<'a> {
    pub timestamp: std::time::SystemTime,
    pub level: Level,
    pub message: &'a str,
    pub logger: &'a str,
    pub file: Option<&'a str>,
    pub line: Option<u32>,
    /// Hex ids of the event's span, when inside one.
    pub ids: Option<(&'a str, &'a str)>,
    /// Root span first, the event's own fields last; later entries win.
    pub fields: &'a [(Key, FieldValue)],
}

impl Line<'_> {
    /// The fields to print, each key once: the last occurrence wins, so an
    /// event field shadows a span field and an inner span an outer one.
    fn unique_fields(&self) -> impl Iterator<Item = &(Key, FieldValue)> {
        self.fields
            .iter()
            .enumerate()
            .filter(|(i, (key, _))| !self.fields[i + 1..].iter().any(|(later, _)| later == key))
            .map(|(_, field)| field)
    }
}

pub(crate) fn json(line: &Line<'_>, out: &mut String) {
    out.push_str("{\"timestamp\":\"");
    let _ = write!(out, "{}", humantime::format_rfc3339_micros(line.timestamp));
    out.push_str("\",\"level\":\"");
    out.push_str(level_lower(line.level));
    out.push_str("\",\"event\":");
    json_string(out, line.message);
    out.push_str(",\"logger\":");
    json_string(out, line.logger);
    if let Some(file) = line.file {
        out.push_str(",\"file\":");
        json_string(out, file);
    }
    if let Some(number) = line.line {
        let _ = write!(out, ",\"line\":{number}");
    }
    if let Some((trace_id, span_id)) = line.ids {
        let _ = write!(
            out,
            ",\"trace_id\":\"{trace_id}\",\"span_id\":\"{span_id}\""
        );
    }
    for (key, value) in line.unique_fields() {
        out.push(',');
        if RESERVED.contains(&key.as_ref()) {
            json_string(out, &format!("field.{key}"));
        } else {
            json_string(out, key);
        }
        out.push(':');
        json_value(out, value);
    }
    out.push_str("}\n");
}

pub(crate) fn console(line: &Line<'_>, colour: bool, out: &mut String) {
    let (dim, reset) = if colour {
        ("\x1b[2m", "\x1b[0m")
    } else {
        ("", "")
    };
    let _ = write!(
        out,
        "{dim}{}{reset} ",
        humantime::format_rfc3339_millis(line.timestamp)
    );
    if colour {
        let _ = write!(
            out,
            "{}{:>5}{reset} ",
            level_colour(line.level),
            line.level.as_str()
        );
    } else {
        let _ = write!(out, "{:>5} ", line.level.as_str());
    }
    let _ = write!(out, "{dim}{}:{reset} {}", line.logger, line.message);
    for (key, value) in line.unique_fields() {
        match value {
            FieldValue::Str(text) if needs_quotes(text) => {
                let _ = write!(out, " {key}={text:?}");
            }
            _ => {
                let _ = write!(out, " {key}={value}");
            }
        }
    }
    if let Some((trace_id, span_id)) = line.ids {
        let _ = write!(out, " {dim}trace_id={trace_id} span_id={span_id}{reset}");
    }
    out.push('\n');
}

fn needs_quotes(text: &str) -> bool {
    text.is_empty()
        || text
            .chars()
            .any(|c| c.is_whitespace() || c == '"' || c == '=')
}

fn level_lower(level: Level) -> &'static str {
    match level {
        Level::ERROR => "error",
        Level::WARN => "warn",
        Level::INFO => "info",
        Level::DEBUG => "debug",
        Level::TRACE => "trace",
    }
}

fn level_colour(level: Level) -> &'static str {
    match level {
        Level::ERROR => "\x1b[31m",
        Level::WARN => "\x1b[33m",
        Level::INFO => "\x1b[32m",
        Level::DEBUG => "\x1b[34m",
        Level::TRACE => "\x1b[35m",
    }
}

fn json_value(out: &mut String, value: &FieldValue) {
    match value {
        FieldValue::Bool(v) => {
            let _ = write!(out, "{v}");
        }
        FieldValue::I64(v) => {
            let _ = write!(out, "{v}");
        }
        FieldValue::U64(v) => {
            let _ = write!(out, "{v}");
        }
        // JSON has no NaN or infinity.
        FieldValue::F64(v) if v.is_finite() => {
            let _ = write!(out, "{v}");
        }
        FieldValue::F64(v) => json_string(out, &v.to_string()),
        FieldValue::Str(v) => json_string(out, v),
    }
}

fn json_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn sample<'a>(fields: &'a [(Key, FieldValue)]) -> Line<'a> {
        Line {
            timestamp: std::time::UNIX_EPOCH
                + std::time::Duration::from_micros(1_700_000_000_123_456),
            level: Level::INFO,
            message: "order \"placed\"\n",
            logger: "shop::orders",
            file: Some("src/orders.rs"),
            line: Some(42),
            ids: Some(("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331")),
            fields,
        }
    }

    #[test]
    fn json_line_has_every_key_and_parses() {
        let fields = vec![
            (Cow::Borrowed("order_id"), FieldValue::I64(7)),
            (Cow::Borrowed("customer"), FieldValue::from("ada")),
            (Cow::Borrowed("order_id"), FieldValue::I64(8)),
            (Cow::Borrowed("level"), FieldValue::from("user's")),
            (Cow::Borrowed("ratio"), FieldValue::F64(f64::NAN)),
        ];
        let mut out = String::new();
        json(&sample(&fields), &mut out);
        assert!(out.ends_with("}\n"));
        let value: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(value["timestamp"], "2023-11-14T22:13:20.123456Z");
        assert_eq!(value["level"], "info");
        assert_eq!(value["event"], "order \"placed\"\n");
        assert_eq!(value["logger"], "shop::orders");
        assert_eq!(value["file"], "src/orders.rs");
        assert_eq!(value["line"], 42);
        assert_eq!(value["trace_id"], "0af7651916cd43dd8448eb211c80319c");
        assert_eq!(value["span_id"], "b7ad6b7169203331");
        assert_eq!(value["order_id"], 8, "the later field wins");
        assert_eq!(value["customer"], "ada");
        assert_eq!(value["field.level"], "user's");
        assert_eq!(value["ratio"], "NaN");
        assert_eq!(out.matches("order_id").count(), 1);
    }

    #[test]
    fn control_characters_are_escaped() {
        let mut out = String::new();
        json_string(&mut out, "a\u{1}b\tc");
        assert_eq!(out, "\"a\\u0001b\\tc\"");
    }

    #[test]
    fn console_line_is_readable() {
        let fields = vec![(Cow::Borrowed("customer"), FieldValue::from("ada lovelace"))];
        let mut out = String::new();
        console(&sample(&fields), false, &mut out);
        assert!(
            out.starts_with("2023-11-14T22:13:20.123Z  INFO shop::orders: order"),
            "{out}"
        );
        assert!(out.contains(" customer=\"ada lovelace\""), "{out}");
        assert!(
            out.contains("trace_id=0af7651916cd43dd8448eb211c80319c"),
            "{out}"
        );
    }
}
