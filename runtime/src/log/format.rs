//! The two line formats: JSON (one object per line, ARCHITECTURE.md §4) and
//! the human console line of the dev profile.

use std::cell::Cell;
use std::fmt::Write as _;

use tracing_core::Level;

use crate::hex::hex_into;
use crate::redact::Redactor;
use crate::value::FieldValue;

use super::fields::{Entry, Key};

/// Whether `key` is one of the keys every JSON line owns; a user field
/// with one of these names is written as `field.<name>` rather than
/// producing a duplicate key. A `match` compares lengths before bytes:
/// this runs for every field of every line.
fn is_reserved(key: &str) -> bool {
    matches!(
        key,
        "timestamp" | "level" | "event" | "logger" | "file" | "line" | "trace_id" | "span_id"
    )
}

/// Everything one log line is made of.
pub(crate) struct Line<'a> {
    pub timestamp: std::time::SystemTime,
    pub level: Level,
    pub message: &'a str,
    pub logger: &'a str,
    pub file: Option<&'a str>,
    pub line: Option<u32>,
    /// The trace and span ids of the event's span (big-endian bytes), when
    /// inside one.
    pub ids: Option<([u8; 16], [u8; 8])>,
    /// The fields of each enclosing span that has some, root span first,
    /// then the event's own; later entries win. Borrowed from the spans'
    /// extensions, a slice each: a line copies no field, nor a pointer per
    /// field.
    pub fields: &'a [&'a [Entry]],
    /// What scrubs the fields' text the first time a line shows it.
    pub redactor: &'a Redactor,
}

impl Line<'_> {
    fn for_each_unique_field(&self, f: impl FnMut(&Key, &FieldValue)) {
        for_each_unique_field(self.fields, self.redactor, f);
    }
}

/// The fields of a record (groups as in [`Line::fields`]), each key once,
/// as lines show them ([`Entry::shown`]): the last occurrence wins, so an
/// event field shadows a span field and an inner span an outer one. Plain
/// loops rather than a flattening iterator: this runs for every field of
/// every line.
pub(crate) fn for_each_unique_field(
    fields: &[&[Entry]],
    redactor: &Redactor,
    mut f: impl FnMut(&Key, &FieldValue),
) {
    for (g, group) in fields.iter().enumerate() {
        for (i, entry) in group.iter().enumerate() {
            if !shadowed(&entry.key, &group[i + 1..], &fields[g + 1..]) {
                f(&entry.key, entry.shown(redactor));
            }
        }
    }
}

/// Whether `key` comes again in `rest` (of its group) or a later group.
fn shadowed(key: &str, rest: &[Entry], later: &[&[Entry]]) -> bool {
    let same = |other: &Entry| other.key.as_ref() == key;
    rest.iter().any(same) || later.iter().any(|group| group.iter().any(same))
}

/// `line` as one JSON object and a newline. Bytes rather than a `String`:
/// everything written is valid UTF-8 by construction, and the line goes out
/// as bytes, so nothing needs checking again.
pub(crate) fn json(line: &Line<'_>, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"timestamp\":\"");
    rfc3339_micros(line.timestamp, out);
    out.extend_from_slice(b"\",\"level\":\"");
    out.extend_from_slice(level_lower(line.level).as_bytes());
    out.extend_from_slice(b"\",\"event\":");
    json_string(out, line.message);
    out.extend_from_slice(b",\"logger\":");
    json_string(out, line.logger);
    if let Some(file) = line.file {
        out.extend_from_slice(b",\"file\":");
        json_string(out, file);
    }
    if let Some(number) = line.line {
        out.extend_from_slice(b",\"line\":");
        out.extend_from_slice(itoa::Buffer::new().format(number).as_bytes());
    }
    if let Some((trace_id, span_id)) = line.ids {
        // Hex digits: nothing to escape.
        out.extend_from_slice(b",\"trace_id\":\"");
        hex_into(&trace_id, out);
        out.extend_from_slice(b"\",\"span_id\":\"");
        hex_into(&span_id, out);
        out.push(b'"');
    }
    line.for_each_unique_field(|key, value| {
        out.push(b',');
        if is_reserved(key) {
            json_string(out, &format!("field.{key}"));
        } else {
            json_string(out, key);
        }
        out.push(b':');
        json_value(out, value);
    });
    out.extend_from_slice(b"}\n");
}

thread_local! {
    /// The last second formatted on this thread (its Unix time and
    /// `YYYY-MM-DDTHH:MM:SS.`): lines come many per second, and only their
    /// microseconds differ.
    static SECOND: Cell<(u64, [u8; 20])> = const { Cell::new((u64::MAX, [0; 20])) };
}

/// `time` as RFC 3339 in UTC with microseconds (`2023-11-14T22:13:20.123456Z`),
/// written digit by digit: this runs for every JSON line.
pub(crate) fn rfc3339_micros(time: std::time::SystemTime, out: &mut Vec<u8>) {
    let since = time
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = since.as_secs();
    let (cached, mut prefix) = SECOND.get();
    if cached != secs {
        prefix = second_prefix(secs);
        SECOND.set((secs, prefix));
    }
    out.extend_from_slice(&prefix);
    let mut micros = *b"000000Z";
    put_digits(&mut micros[..6], u64::from(since.subsec_micros()));
    out.extend_from_slice(&micros);
}

/// `YYYY-MM-DDTHH:MM:SS.` of the Unix time `secs`.
fn second_prefix(secs: u64) -> [u8; 20] {
    let (days, secs_of_day) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    let mut buf = *b"0000-00-00T00:00:00.";
    put_digits(&mut buf[0..4], year as u64);
    put_digits(&mut buf[5..7], u64::from(month));
    put_digits(&mut buf[8..10], u64::from(day));
    put_digits(&mut buf[11..13], secs_of_day / 3600);
    put_digits(&mut buf[14..16], secs_of_day / 60 % 60);
    put_digits(&mut buf[17..19], secs_of_day % 60);
    buf
}

/// The last `digits.len()` decimal digits of `value`, zero-padded.
fn put_digits(digits: &mut [u8], mut value: u64) {
    for digit in digits.iter_mut().rev() {
        *digit = b'0' + (value % 10) as u8;
        value /= 10;
    }
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
    let _ = write!(out, "{dim}{}:{reset} ", line.logger);
    push_without_controls(out, line.message);
    line.for_each_unique_field(|key, value| match value {
        FieldValue::Str(text) if needs_quotes(text) => {
            let _ = write!(out, " {key}={text:?}");
        }
        _ => {
            let _ = write!(out, " {key}={value}");
        }
    });
    if let Some((trace_id, span_id)) = line.ids {
        let (trace_id, span_id) = (u128::from_be_bytes(trace_id), u64::from_be_bytes(span_id));
        let _ = write!(
            out,
            " {dim}trace_id={trace_id:032x} span_id={span_id:016x}{reset}"
        );
    }
    out.push('\n');
}

/// Whether a console value is written quoted, with Rust's escapes: also
/// when it holds a control character, which raw would reach the terminal
/// (an escape sequence recolours it or clears the screen).
fn needs_quotes(text: &str) -> bool {
    text.is_empty()
        || text
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '=')
}

/// `text` with its control characters escaped (`\n`, `\u{1b}`): a message
/// stays on its line, and none of it drives the terminal.
fn push_without_controls(out: &mut String, text: &str) {
    if !text.chars().any(char::is_control) {
        out.push_str(text);
        return;
    }
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
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

fn json_value(out: &mut Vec<u8>, value: &FieldValue) {
    match value {
        FieldValue::Bool(v) => out.extend_from_slice(if *v { b"true" } else { b"false" }),
        FieldValue::I64(v) => out.extend_from_slice(itoa::Buffer::new().format(*v).as_bytes()),
        FieldValue::U64(v) => out.extend_from_slice(itoa::Buffer::new().format(*v).as_bytes()),
        // JSON has no NaN or infinity.
        // Whole numbers as integers (`3`, not `3.0`), as `Display` writes them.
        FieldValue::F64(v) if v.fract() == 0.0 && v.abs() < 1e15 => {
            out.extend_from_slice(itoa::Buffer::new().format(*v as i64).as_bytes())
        }
        FieldValue::F64(v) if v.is_finite() => {
            out.extend_from_slice(zmij::Buffer::new().format_finite(*v).as_bytes())
        }
        FieldValue::F64(v) => json_string(out, &v.to_string()),
        FieldValue::Str(v) => json_string(out, v),
    }
}

/// Whether the eight bytes of `word` hold a control character, `"` or `\\`
/// (SWAR: the classic "has a byte less than / equal to" bit tricks).
fn word_needs_escape(word: u64) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    // The high bit of each byte that is zero, in `word` XOR the byte
    // looked for; of each byte below 0x20, in `word` itself. Or-ed
    // together, one branch for the three.
    let zeros = |word: u64| word.wrapping_sub(ONES) & !word;
    let below_space = word.wrapping_sub(ONES * 0x20) & !word;
    let quote = zeros(word ^ (ONES * u64::from(b'"')));
    let backslash = zeros(word ^ (ONES * u64::from(b'\\')));
    (below_space | quote | backslash) & HIGHS != 0
}

/// Whether `bytes` hold a control character, `"` or `\\`: eight bytes per
/// step. The last few bytes are one more word, never a byte-by-byte loop
/// (most strings of a line are short: such a tail was most of the time).
fn needs_escape(bytes: &[u8]) -> bool {
    let word = |chunk: &[u8]| u64::from_ne_bytes(chunk.try_into().unwrap_or([0; 8]));
    if bytes.len() < 8 {
        // Shifted into a register over a padding that needs no escaping
        // (through memory, a short copy then a word load stalls).
        let short = bytes
            .iter()
            .fold(u64::from_ne_bytes([b'a'; 8]), |word, &byte| {
                word << 8 | u64::from(byte)
            });
        return word_needs_escape(short);
    }
    let mut chunks = bytes.chunks_exact(8);
    if chunks.any(|chunk| word_needs_escape(word(chunk))) {
        return true;
    }
    // The last eight bytes, overlapping what was checked.
    word_needs_escape(word(&bytes[bytes.len() - 8..]))
}

/// `text` as a JSON string: `"`, `\\` and control characters escaped
/// (`\n`, `\r`, `\t` by name, the others, `\b` and `\f` too, as
/// `\u00XX`); DEL and non-ASCII as they are. Inlined: it runs for every
/// string of a line (the escaping itself is out of line).
#[inline]
fn json_string(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    // Most text needs no escaping: checked eight bytes at a time, then
    // copied whole.
    if needs_escape(bytes) {
        escape_into(out, bytes);
    } else {
        out.extend_from_slice(bytes);
    }
    out.push(b'"');
}

/// `bytes` escaped (see [`json_string`]); the runs between escapes are
/// copied whole.
#[cold]
#[inline(never)]
fn escape_into(out: &mut Vec<u8>, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut start = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        let escaped: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => &[
                b'\\',
                b'u',
                b'0',
                b'0',
                DIGITS[usize::from(byte >> 4)],
                DIGITS[usize::from(byte & 0xf)],
            ],
            _ => continue,
        };
        // Escapes are ASCII: a run never splits a character.
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(escaped);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

#[cfg(test)]
mod tests;
