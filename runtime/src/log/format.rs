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
    /// Borrowed from the spans' extensions: a line copies no field.
    pub fields: &'a [&'a (Key, FieldValue)],
}

impl Line<'_> {
    /// The fields to print, each key once: the last occurrence wins, so an
    /// event field shadows a span field and an inner span an outer one.
    fn unique_fields(&self) -> impl Iterator<Item = &(Key, FieldValue)> {
        self.fields
            .iter()
            .enumerate()
            .filter(|(i, (key, _))| !self.fields[i + 1..].iter().any(|(later, _)| later == key))
            .map(|(_, field)| *field)
    }
}

pub(crate) fn json(line: &Line<'_>, out: &mut String) {
    out.push_str("{\"timestamp\":\"");
    rfc3339_micros(line.timestamp, out);
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
        out.push_str(",\"line\":");
        out.push_str(itoa::Buffer::new().format(number));
    }
    if let Some((trace_id, span_id)) = line.ids {
        // Hex digits: nothing to escape.
        out.push_str(",\"trace_id\":\"");
        out.push_str(trace_id);
        out.push_str("\",\"span_id\":\"");
        out.push_str(span_id);
        out.push('"');
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

/// `time` as RFC 3339 in UTC with microseconds (`2023-11-14T22:13:20.123456Z`),
/// written digit by digit: this runs for every JSON line.
pub(crate) fn rfc3339_micros(time: std::time::SystemTime, out: &mut String) {
    let since = time
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = since.as_secs();
    let (days, secs_of_day) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    let mut buf = *b"0000-00-00T00:00:00.000000Z";
    let mut put = |at: usize, width: usize, mut value: u64| {
        for i in (at..at + width).rev() {
            buf[i] = b'0' + (value % 10) as u8;
            value /= 10;
        }
    };
    put(0, 4, year as u64);
    put(5, 2, u64::from(month));
    put(8, 2, u64::from(day));
    put(11, 2, secs_of_day / 3600);
    put(14, 2, secs_of_day / 60 % 60);
    put(17, 2, secs_of_day % 60);
    put(20, 6, u64::from(since.subsec_micros()));
    // ASCII digits and separators only.
    out.push_str(std::str::from_utf8(&buf).unwrap_or_default());
}

/// (year, month, day) of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Lowercase hex of an id's bytes, into `out` (twice as long as `bytes`).
pub(crate) fn hex_into<'a>(bytes: &[u8], out: &'a mut [u8]) -> &'a str {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (i, byte) in bytes.iter().enumerate() {
        out[2 * i] = DIGITS[usize::from(byte >> 4)];
        out[2 * i + 1] = DIGITS[usize::from(byte & 0xf)];
    }
    std::str::from_utf8(&out[..2 * bytes.len()]).unwrap_or_default()
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
        FieldValue::Bool(v) => out.push_str(if *v { "true" } else { "false" }),
        FieldValue::I64(v) => out.push_str(itoa::Buffer::new().format(*v)),
        FieldValue::U64(v) => out.push_str(itoa::Buffer::new().format(*v)),
        // JSON has no NaN or infinity.
        // Whole numbers as integers (`3`, not `3.0`), as `Display` writes them.
        FieldValue::F64(v) if v.fract() == 0.0 && v.abs() < 1e15 => {
            out.push_str(itoa::Buffer::new().format(*v as i64))
        }
        FieldValue::F64(v) if v.is_finite() => out.push_str(zmij::Buffer::new().format_finite(*v)),
        FieldValue::F64(v) => json_string(out, &v.to_string()),
        FieldValue::Str(v) => json_string(out, v),
    }
}

/// Whether `bytes` hold a control character, `"` or `\\` (SWAR: a word of
/// eight bytes per step, the classic "has a byte less than / equal to"
/// bit tricks).
fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let has_zero = |word: u64| word.wrapping_sub(ONES) & !word & HIGHS != 0;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let word = u64::from_ne_bytes(chunk.try_into().unwrap_or([0; 8]));
        let below_space = word.wrapping_sub(ONES * 0x20) & !word & HIGHS != 0;
        if below_space
            || has_zero(word ^ (ONES * u64::from(b'"')))
            || has_zero(word ^ (ONES * u64::from(b'\\')))
        {
            return true;
        }
    }
    chunks
        .remainder()
        .iter()
        .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

/// `text` as a JSON string: the runs that need no escaping are copied
/// whole.
fn json_string(out: &mut String, text: &str) {
    out.reserve(text.len() + 2);
    out.push('"');
    let bytes = text.as_bytes();
    // Most text needs no escaping: checked eight bytes at a time, then
    // copied whole.
    if !needs_escape(bytes) {
        out.push_str(text);
        out.push('"');
        return;
    }
    let mut start = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        let escaped = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        // `byte` is ASCII, so `i` is on a char boundary.
        out.push_str(&text[start..i]);
        if escaped.is_empty() {
            let _ = write!(out, "\\u{:04x}", byte);
        } else {
            out.push_str(escaped);
        }
        start = i + 1;
    }
    out.push_str(&text[start..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn sample<'a>(fields: &'a [&'a (Key, FieldValue)]) -> Line<'a> {
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
        let fields = [
            (Cow::Borrowed("order_id"), FieldValue::I64(7)),
            (Cow::Borrowed("customer"), FieldValue::from("ada")),
            (Cow::Borrowed("order_id"), FieldValue::I64(8)),
            (Cow::Borrowed("level"), FieldValue::from("user's")),
            (Cow::Borrowed("ratio"), FieldValue::F64(f64::NAN)),
        ];
        let fields: Vec<&(Key, FieldValue)> = fields.iter().collect();
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
        for text in [
            "",
            "plain",
            "é \"quoted\" \\ back\r\n\u{1f}ü",
            "\u{7f}\u{0}",
        ] {
            let mut out = String::new();
            json_string(&mut out, text);
            assert_eq!(serde_json::from_str::<String>(&out).unwrap(), text, "{out}");
        }
    }

    #[test]
    fn escapes_are_found_anywhere_in_a_word() {
        assert!(!needs_escape(b""));
        assert!(!needs_escape(
            "plain ascii text, and é ü 漢字 ~ DEL\u{7f}".as_bytes()
        ));
        for bad in [b'"', b'\\', b'\n', 0, 0x1f] {
            for len in 1..20 {
                for at in 0..len {
                    let mut text = vec![b'a'; len];
                    text[at] = bad;
                    assert!(needs_escape(&text), "{bad:#x} at {at} of {len}");
                }
            }
        }
        // Bytes just above the special ones do not count.
        assert!(!needs_escape(&[
            0x20, 0x21, 0x23, 0x5b, 0x5d, 0x20, 0x21, 0x23, 0x5d
        ]));
    }

    #[test]
    fn timestamps_are_rfc3339_micros() {
        for micros in [
            0,
            951_782_400_000_001, // 2000-02-29
            1_700_000_000_123_456,
            4_102_444_799_999_999, // 2099-12-31T23:59:59.999999Z
        ] {
            let time = std::time::UNIX_EPOCH + std::time::Duration::from_micros(micros);
            let mut out = String::new();
            rfc3339_micros(time, &mut out);
            assert_eq!(out, humantime::format_rfc3339_micros(time).to_string());
        }
    }

    #[test]
    fn ids_are_lowercase_hex() {
        let mut buf = [0u8; 16];
        assert_eq!(
            hex_into(&[0x00, 0xb7, 0xad, 0x6b, 0x71, 0x69, 0x20, 0x3f], &mut buf),
            "00b7ad6b7169203f"
        );
    }

    #[test]
    fn console_line_is_readable() {
        let fields = [(Cow::Borrowed("customer"), FieldValue::from("ada lovelace"))];
        let fields: Vec<&(Key, FieldValue)> = fields.iter().collect();
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
