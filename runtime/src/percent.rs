//! Strict percent-decoding, for the values of the standard variables
//! (`OTEL_RESOURCE_ATTRIBUTES`, `OTEL_EXPORTER_OTLP_HEADERS`) and of the W3C
//! `baggage` header. Strict where the `percent-encoding` crate is lenient: a
//! `%` not followed by two hex digits is an error, not a literal, so a
//! mistyped value is reported instead of passed on changed.

/// Decodes `%XX` escapes; `None` for a truncated or non-hex escape or a
/// result that is not UTF-8.
pub(crate) fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let &[hi, lo] = bytes.get(i + 1..i + 3)? else {
                return None;
            };
            // `to_digit` takes hex digits only: no sign, unlike `from_str_radix`.
            let hi = char::from(hi).to_digit(16)?;
            let lo = char::from(lo).to_digit(16)?;
            // Two hex digits always fit a byte.
            out.push(u8::try_from(hi * 16 + lo).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn escapes_are_two_hex_digits() {
        assert_eq!(decode("a%20b%2C%3d").as_deref(), Some("a b,="));
        assert_eq!(decode("%C3%A9").as_deref(), Some("é"));
        assert_eq!(decode("plain").as_deref(), Some("plain"));
        for bad in ["100%", "%2", "%zz", "%+5", "%-1", "%FF"] {
            assert_eq!(decode(bad), None, "{bad}");
        }
    }
}
