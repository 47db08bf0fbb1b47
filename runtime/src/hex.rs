//! Lowercase hex of ids, a word at a time: the trace and span ids of every
//! log line, and the request ids the HTTP layer makes up.

/// Lowercase hex of `bytes` (a multiple of four: ids are 8 or 16 bytes,
/// request ids 16), appended to `out`.
pub(crate) fn hex_into(bytes: &[u8], out: &mut Vec<u8>) {
    for group in bytes.chunks_exact(4) {
        let group = u32::from_be_bytes(group.try_into().unwrap_or_default());
        out.extend_from_slice(&hex_word(group));
    }
}

/// The 32 lowercase hex digits of `value`, most significant first, in an
/// array (no buffer to grow): the request ids of the HTTP layer.
#[cfg(feature = "axum")]
pub(crate) fn hex_u128(value: u128) -> [u8; 32] {
    let mut digits = [0; 32];
    for (i, out) in digits.chunks_exact_mut(8).enumerate() {
        out.copy_from_slice(&hex_word((value >> (96 - 32 * i)) as u32));
    }
    digits
}

/// The eight lowercase hex digits of `value`, computed a word at a time
/// rather than a nibble at a time: each log line writes 48 of them.
fn hex_word(value: u32) -> [u8; 8] {
    const LOW_NIBBLES: u64 = 0x0f0f_0f0f_0f0f_0f0f;
    // Spread the nibbles, one per byte, the most significant in the top byte.
    let mut x = u64::from(value);
    x = (x | x << 16) & 0x0000_ffff_0000_ffff;
    x = (x | x << 8) & 0x00ff_00ff_00ff_00ff;
    x = (x | x << 4) & LOW_NIBBLES;
    // Per byte: '0' + n, plus the gap from '9' + 1 to 'a' where n > 9
    // (n + 6 carries into bit 4 exactly then).
    let letters = ((x + 0x0606_0606_0606_0606) >> 4) & 0x0101_0101_0101_0101;
    (x + 0x3030_3030_3030_3030 + letters * u64::from(b'a' - b'9' - 1)).to_be_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_lowercase_hex() {
        let mut out = Vec::new();
        hex_into(&[0x00, 0xb7, 0xad, 0x6b, 0x71, 0x69, 0x20, 0x3f], &mut out);
        assert_eq!(out, b"00b7ad6b7169203f");
        let mut out = Vec::new();
        let id = 0x0af7_6519_16cd_43dd_8448_eb21_1c80_319c_u128;
        hex_into(&id.to_be_bytes(), &mut out);
        assert_eq!(out, format!("{id:032x}").as_bytes());
        #[cfg(feature = "axum")]
        for id in [0, 1, id, u128::MAX, 0x0123_4567_89ab_cdef_u128 << 64] {
            assert_eq!(hex_u128(id), format!("{id:032x}").as_bytes());
        }
        for value in [0, 1, 9, 10, 15, 16, 0x9a9a_9a9a, 0xdead_beef, u32::MAX] {
            assert_eq!(hex_word(value), format!("{value:08x}").as_bytes());
        }
        for byte in 0..=255u8 {
            assert_eq!(hex_word(u32::from(byte)), format!("{byte:08x}").as_bytes());
        }
    }
}
