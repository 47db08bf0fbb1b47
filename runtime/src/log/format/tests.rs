use super::*;
use std::borrow::Cow;

fn entry(key: &'static str, value: FieldValue) -> Entry {
    Entry::new(Cow::Borrowed(key), value)
}

fn sample<'a>(fields: &'a [&'a [Entry]]) -> Line<'a> {
    Line {
        timestamp: std::time::UNIX_EPOCH + std::time::Duration::from_micros(1_700_000_000_123_456),
        level: Level::INFO,
        message: "order \"placed\"\n",
        logger: "shop::orders",
        file: Some("src/orders.rs"),
        line: Some(42),
        ids: Some((
            0x0af7_6519_16cd_43dd_8448_eb21_1c80_319c_u128.to_be_bytes(),
            0xb7ad_6b71_6920_3331_u64.to_be_bytes(),
        )),
        fields,
        redactor: crate::redact::active(),
    }
}

#[test]
fn json_line_has_every_key_and_parses() {
    let span = [
        entry("order_id", FieldValue::I64(7)),
        entry("customer", FieldValue::from("ada")),
    ];
    // An event's collector keeps a field named twice twice (see
    // `FieldCollector::visitor`): the line writes it once.
    let event = [
        entry("order_id", FieldValue::I64(9)),
        entry("order_id", FieldValue::I64(8)),
        entry("level", FieldValue::from("user's")),
        entry("ratio", FieldValue::F64(f64::NAN)),
    ];
    let mut out = Vec::new();
    json(&sample(&[&span, &event]), &mut out);
    let out = String::from_utf8(out).unwrap();
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

fn escaped(text: &str) -> String {
    let mut out = Vec::new();
    json_string(&mut out, text);
    String::from_utf8(out).unwrap()
}

/// The escaping of lines written before `json_string` worked on bytes,
/// byte for byte: what the output must stay.
fn escaped_as_before(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0'..='\u{1f}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

#[test]
fn control_characters_are_escaped() {
    assert_eq!(escaped("a\u{1}b\tc"), "\"a\\u0001b\\tc\"");
    assert_eq!(escaped("\u{8}\u{c}\u{1f}"), "\"\\u0008\\u000c\\u001f\"");
    for text in [
        "",
        "plain",
        "é \"quoted\" \\ back\r\n\u{1f}ü",
        "\u{7f}\u{0}",
    ] {
        let out = escaped(text);
        assert_eq!(serde_json::from_str::<String>(&out).unwrap(), text, "{out}");
    }
}

#[test]
fn escaping_is_unchanged() {
    let mut texts: Vec<String> = vec![
        String::new(),
        "request_finished".into(),
        "a clean run longer than a few words, to be copied whole: 0123456789".into(),
        "é ü 漢字 🦀 ~ DEL\u{7f}".into(),
        "\"quoted\" and \\back\\slashed".into(),
        "\"".repeat(9),
        "\\".repeat(17),
    ];
    // Every ASCII byte, at every position of short and longer texts.
    for byte in 0u8..0x80 {
        for len in [1, 7, 8, 9, 16, 23] {
            for at in 0..len {
                let mut text = vec![b'x'; len];
                text[at] = byte;
                texts.push(String::from_utf8(text).unwrap());
            }
        }
    }
    // Escapes next to multi-byte characters.
    texts.push("ü\"ü\nü\u{1}漢\\".into());
    for text in &texts {
        assert_eq!(escaped(text), escaped_as_before(text), "{text:?}");
        assert_eq!(
            serde_json::from_str::<String>(&escaped(text)).unwrap(),
            *text
        );
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
        999_999,
        1_000_000,
        951_782_400_000_001, // 2000-02-29
        1_700_000_000_123_456,
        4_102_444_799_999_999, // 2099-12-31T23:59:59.999999Z
    ] {
        let time = std::time::UNIX_EPOCH + std::time::Duration::from_micros(micros);
        // Twice: the second time from the cached second.
        for _ in 0..2 {
            let mut out = Vec::new();
            rfc3339_micros(time, &mut out);
            assert_eq!(
                out,
                humantime::format_rfc3339_micros(time)
                    .to_string()
                    .as_bytes()
            );
        }
    }
}

#[test]
fn later_fields_win_across_spans() {
    let field = |key: &'static str, value: i64| entry(key, FieldValue::I64(value));
    let (root, inner, event) = (
        [field("a", 1), field("b", 2)],
        [field("c", 3), field("a", 4), field("c", 5)],
        [field("b", 6)],
    );
    let groups: [&[Entry]; 4] = [&root, &inner, &[], &event];
    let line = sample(&groups);
    let mut unique = Vec::new();
    line.for_each_unique_field(|key, value| unique.push(format!("{key}={value}")));
    assert_eq!(unique, ["a=4", "c=5", "b=6"]);
}

#[test]
fn fields_are_shown_scrubbed_once() {
    let secret = entry("note", FieldValue::from("mail ada@example.com"));
    let plain = entry("note2", FieldValue::from("nothing here"));
    let group = [secret, plain];
    let groups: [&[Entry]; 1] = [&group];
    let mut shown = Vec::new();
    sample(&groups).for_each_unique_field(|key, value| shown.push(format!("{key}={value}")));
    assert_eq!(shown, ["note=mail [REDACTED]", "note2=nothing here"]);
    assert_eq!(
        group[0].value,
        FieldValue::from("mail ada@example.com"),
        "as collected"
    );
    let again = group[0].shown(crate::redact::active());
    assert!(
        std::ptr::eq(again, group[0].shown(crate::redact::active())),
        "the scrubbed value is kept for the next line"
    );
}

#[test]
fn console_line_is_readable() {
    let fields = [entry("customer", FieldValue::from("ada lovelace"))];
    let mut out = String::new();
    console(&sample(&[&fields]), false, &mut out);
    assert!(
        out.starts_with("2023-11-14T22:13:20.123Z  INFO shop::orders: order"),
        "{out}"
    );
    assert!(out.contains(" customer=\"ada lovelace\""), "{out}");
    assert!(
        out.contains("trace_id=0af7651916cd43dd8448eb211c80319c span_id=b7ad6b7169203331"),
        "{out}"
    );
}

#[test]
fn console_lines_carry_no_control_characters() {
    let fields = [
        entry("customer", FieldValue::from("ev\u{1b}[31mil\u{1b}[2J")),
        entry("sku", FieldValue::from("a\0b")),
    ];
    let groups = [&fields[..]];
    let mut line = sample(&groups);
    line.message = "two\nlines \u{7}";
    let mut out = String::new();
    console(&line, false, &mut out);
    let body = out.strip_suffix('\n').expect("one line");
    assert!(!body.chars().any(char::is_control), "{body:?}");
    assert!(
        body.contains(r#"customer="ev\u{1b}[31mil\u{1b}[2J""#),
        "{body}"
    );
    assert!(body.contains(r#"sku="a\0b""#), "{body}");
    assert!(body.contains(r"two\nlines \u{7}"), "{body}");
}
