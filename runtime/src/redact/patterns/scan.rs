//! The scan: which built-in patterns can match a text at all, in one pass
//! over its bytes that looks for what each pattern cannot do without (an
//! `@`; the `J` of `eyJ`, the `b` of `bearer`, the `A` of `AKIA`, the `-`
//! of `-----`; enough digits), so that a text holding none of them, which
//! is most text, costs this pass and no regex run.
//!
//! The pass is what a log line pays on its caller's thread for each of its
//! texts, so it is written for speed: on x86-64, sixteen bytes at a time
//! with SSE2 (part of every x86-64 processor, so no detection at run
//! time), elsewhere eight at a time in a `u64`. Both classify every byte
//! without a branch; a byte that may start a mark is then looked at where
//! it is ([`marks_at`], out of line), and a text with enough digits has
//! them counted again by run ([`by_digits`], out of line). The two passes
//! must agree: a property test holds them to it.

use crate::config::BuiltinPattern;

/// Which built-in patterns can match a text: a bit per [`BuiltinPattern::ALL`]
/// index.
pub(super) type Candidates = u16;

#[inline]
pub(super) fn bit(pattern: BuiltinPattern) -> Candidates {
    let index = BuiltinPattern::ALL
        .iter()
        .position(|p| *p == pattern)
        .unwrap_or(0);
    1 << index
}

/// The least digits an SSN, a phone number and a card number have.
const SSN_DIGITS: u32 = 9;
const PHONE_DIGITS: u32 = 10;
const CARD_DIGITS: u32 = 13;

/// The built-in patterns that can match `text`. Inlined: most texts are
/// short, and a call's setup (the constants, the saved registers) would
/// cost a good part of the scan.
#[inline(always)]
pub(super) fn candidates(text: &[u8]) -> Candidates {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    let (digits, found) = sse2::scan(text);
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    let (digits, found) = words::scan(text);
    finish(text, digits, found)
}

/// The marks found, and the numbers' patterns when there are enough
/// digits in all.
#[inline(always)]
fn finish(text: &[u8], digits: u32, found: Candidates) -> Candidates {
    if digits >= SSN_DIGITS {
        found | by_digits(text)
    } else {
        found
    }
}

/// The patterns of numbers (SSN, phone, card) that `text`, with enough
/// digits in all, can hold: as many digits must follow each other, with at
/// most two separators (` `, `-`, `.`, `(`, `)`, `+`) between two of them.
/// The digits of hex ids, UUIDs and timestamps are cut off by letters and
/// colons, so their patterns do not run.
#[cold]
fn by_digits(text: &[u8]) -> Candidates {
    let (mut longest, mut run, mut separators) = (0_u32, 0_u32, 0_u32);
    for &byte in text {
        // Without a branch per byte: ids alternate digits and letters, which
        // a branch would mispredict at every other byte.
        let digit = u32::from(byte.is_ascii_digit());
        let separator = matches!(byte, b' ' | b'-' | b'.' | b'(' | b')' | b'+');
        let kept = u32::from(separator && run > 0 && separators < 2);
        run = digit * (run + 1) + kept * run;
        separators = kept * (separators + 1);
        longest = longest.max(run);
    }
    let mut found: Candidates = 0;
    if longest >= SSN_DIGITS {
        found |= bit(BuiltinPattern::UsSsn);
    }
    if longest >= PHONE_DIGITS {
        found |= bit(BuiltinPattern::Phone);
    }
    if longest >= CARD_DIGITS {
        found |= bit(BuiltinPattern::CardNumber);
    }
    found
}

/// The patterns whose whole mark is at one of the bytes `flagged` of the
/// text from `start`: bit `i << shift` of `flagged` stands for byte
/// `start + i`. The marks: `@`, `eyJ` (ending there), `bearer` (any case),
/// `AKIA`/`ASIA`, `-----`. Each is compared as an array of fixed length
/// (a word or two), not a slice: a plain text flags a few bytes (a capital
/// `A`, a `-`, a `b`), each costing a couple of compares.
#[cold]
fn marks_at(text: &[u8], start: usize, mut flagged: u64, shift: u32) -> Candidates {
    /// The `N` bytes of `text` from `at`, if it has them.
    fn at<const N: usize>(text: &[u8], at: usize) -> Option<[u8; N]> {
        text.get(at..)?.first_chunk::<N>().copied()
    }
    let mut found: Candidates = 0;
    while flagged != 0 {
        let i = start + (flagged.trailing_zeros() >> shift) as usize;
        flagged &= flagged - 1;
        let pattern = match text[i] {
            b'@' => BuiltinPattern::Email,
            b'J' if i >= 2 && at(text, i - 2) == Some(*b"ey") => BuiltinPattern::Jwt,
            b'b' | b'B'
                if at::<5>(text, i + 1).is_some_and(|w| w.eq_ignore_ascii_case(b"earer")) =>
            {
                BuiltinPattern::Bearer
            }
            b'A' if matches!(at(text, i + 1), Some(w) if w == *b"KIA" || w == *b"SIA") => {
                BuiltinPattern::AwsAccessKey
            }
            b'-' if at(text, i + 1) == Some(*b"----") => BuiltinPattern::PrivateKey,
            _ => continue,
        };
        found |= bit(pattern);
    }
    found
}

/// The pass eight bytes at a time, in a `u64`, with no branch per byte and
/// no table.
#[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2"), allow(dead_code))]
mod words {
    use super::{Candidates, marks_at};

    /// A byte in every byte of a word, and each byte's high bit.
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGHS: u64 = ONES << 7;

    /// The high bit of each byte of `word` that is `byte`, and maybe of a
    /// byte above one that is (a borrow crosses into it): a word with a bit
    /// set holds `byte` at the lowest one, and each flagged byte is looked
    /// at.
    #[inline(always)]
    fn bytes_equal(word: u64, byte: u8) -> u64 {
        let x = word ^ (ONES * u64::from(byte));
        x.wrapping_sub(ONES) & !x & HIGHS
    }

    /// How many bytes of `word` are ASCII digits (exactly: no borrow or
    /// carry crosses bytes, the high bits being set aside first).
    #[inline(always)]
    fn digits_in(word: u64) -> u32 {
        let low = word & !HIGHS;
        let at_least_0 = low.wrapping_add(ONES * u64::from(0x80 - b'0'));
        let above_9 = low.wrapping_add(ONES * u64::from(0x80 - b'9' - 1));
        let digits = at_least_0 & !above_9 & !word & HIGHS;
        // One bit per digit byte, moved to the bottom; a multiply sums the
        // eight bytes into the top one.
        ((digits >> 7).wrapping_mul(ONES) >> 56) as u32
    }

    /// The digits of `text` and the marks found in it.
    #[inline(always)]
    pub(super) fn scan(text: &[u8]) -> (u32, Candidates) {
        let mut digits = 0_u32;
        let mut found: Candidates = 0;
        let mut scan = |word: u64, start: usize, found: &mut Candidates| {
            digits += digits_in(word);
            let marks = bytes_equal(word, b'@')
                | bytes_equal(word, b'J')
                | bytes_equal(word | (ONES * 0x20), b'b')
                | bytes_equal(word, b'A')
                | bytes_equal(word, b'-');
            if marks != 0 {
                *found |= marks_at(text, start, marks, 3);
            }
        };
        let mut words = text.chunks_exact(8);
        for (w, chunk) in (&mut words).enumerate() {
            let mut bytes = [0; 8];
            bytes.copy_from_slice(chunk);
            scan(u64::from_le_bytes(bytes), w * 8, &mut found);
        }
        let tail = words.remainder();
        if !tail.is_empty() {
            // Padded with zeros: neither digits nor marks. Shifted in, byte
            // by byte: a copy of a few bytes would be a call to `memcpy`.
            let word = tail
                .iter()
                .rev()
                .fold(0, |word, &byte| word << 8 | u64::from(byte));
            scan(word, text.len() - tail.len(), &mut found);
        }
        (digits, found)
    }
}

/// The pass sixteen bytes at a time with SSE2, which every x86-64
/// processor has (safe_arch's wrappers of its intrinsics exist where the
/// target enables it, as x86-64 targets do).
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod sse2 {
    use safe_arch::{
        bitand_m128i, bitor_m128i, cmp_eq_mask_i8_m128i, m128i, min_u8_m128i, move_mask_i8_m128i,
        set_i64_m128i, set_splat_i8_m128i, sub_i8_m128i, sum_of_u8_abs_diff_m128i, zeroed_m128i,
    };

    use super::{Candidates, marks_at};

    const BLOCK: usize = 16;
    /// Blocks whose digits a lane of the running count can hold (a byte).
    const BLOCKS_PER_COUNT: usize = 255;

    /// The digits of `text` and the marks found in it.
    #[inline(always)]
    pub(super) fn scan(text: &[u8]) -> (u32, Candidates) {
        let len = text.len();
        if len < BLOCK {
            let (digit, marks) = classify(short(text));
            return (
                sum(sub_i8_m128i(zeroed_m128i(), digit)),
                marks_in(text, 0, marks),
            );
        }
        let (mut digits, mut found) = (0_u32, 0);
        // Each byte lane counts the digits seen in it (a digit's lane is
        // all ones, -1): summed every 255 blocks, before a lane overflows.
        let mut lanes = zeroed_m128i();
        let mut until_sum = BLOCKS_PER_COUNT;
        let mut blocks = text.chunks_exact(BLOCK);
        for (b, block) in (&mut blocks).enumerate() {
            let (digit, marks) = classify(load(block));
            lanes = sub_i8_m128i(lanes, digit);
            found |= marks_in(text, b * BLOCK, marks);
            until_sum -= 1;
            if until_sum == 0 {
                digits += sum(lanes);
                lanes = zeroed_m128i();
                until_sum = BLOCKS_PER_COUNT;
            }
        }
        let rest = blocks.remainder().len();
        if rest > 0 {
            // The last sixteen bytes, of which the first `seen` were counted.
            let seen = BLOCK - rest;
            let (digit, marks) = classify(load(&text[len - BLOCK..]));
            lanes = sub_i8_m128i(lanes, bitand_m128i(digit, lanes_from(seen)));
            found |= marks_in(text, len - BLOCK, marks & (u32::MAX << seen));
        }
        (digits + sum(lanes), found)
    }

    /// The first sixteen bytes of `block`, which has at least sixteen.
    #[inline(always)]
    fn load(block: &[u8]) -> m128i {
        let mut bytes = [0_u8; BLOCK];
        bytes.copy_from_slice(&block[..BLOCK]);
        m128i::from(bytes)
    }

    /// A text of fewer than sixteen bytes, padded with zeros (neither
    /// digits nor marks): two words read at each end, overlapping, with
    /// what they share shifted out, rather than a copy of a few bytes
    /// (a call to `memcpy`) or a loop over them.
    #[inline(always)]
    fn short(text: &[u8]) -> m128i {
        let len = text.len();
        let word = |at: usize| {
            let mut bytes = [0; 8];
            bytes.copy_from_slice(&text[at..at + 8]);
            u64::from_le_bytes(bytes)
        };
        let half = |at: usize| {
            let mut bytes = [0; 4];
            bytes.copy_from_slice(&text[at..at + 4]);
            u64::from(u32::from_le_bytes(bytes))
        };
        let (low, high) = if len >= 8 {
            // `checked_shr`: at eight bytes, the second word is all shared.
            let high = word(len - 8).checked_shr(8 * (16 - len) as u32);
            (word(0), high.unwrap_or(0))
        } else if len >= 4 {
            (half(0) | (half(len - 4) >> (8 * (8 - len))) << 32, 0)
        } else {
            let low = text
                .iter()
                .rev()
                .fold(0_u64, |word, &byte| word << 8 | u64::from(byte));
            (low, 0)
        };
        set_i64_m128i(high as i64, low as i64)
    }

    /// The lanes from `seen` on, all ones; the others zero.
    #[inline(always)]
    fn lanes_from(seen: usize) -> m128i {
        let (low, high) = if seen >= 8 {
            (0, u64::MAX << (8 * (seen - 8)))
        } else {
            (u64::MAX << (8 * seen), u64::MAX)
        };
        set_i64_m128i(high as i64, low as i64)
    }

    /// Each lane that is an ASCII digit (all ones), and a bit per lane that
    /// may start a mark.
    #[inline(always)]
    fn classify(bytes: m128i) -> (m128i, u32) {
        let splat = |b: u8| set_splat_i8_m128i(b as i8);
        let eq = |b: u8| cmp_eq_mask_i8_m128i(bytes, splat(b));
        let from_0 = sub_i8_m128i(bytes, splat(b'0'));
        let digit = cmp_eq_mask_i8_m128i(min_u8_m128i(from_0, splat(9)), from_0);
        let lower_b = cmp_eq_mask_i8_m128i(bitor_m128i(bytes, splat(0x20)), splat(b'b'));
        let marks = bitor_m128i(
            bitor_m128i(eq(b'@'), eq(b'J')),
            bitor_m128i(bitor_m128i(eq(b'A'), eq(b'-')), lower_b),
        );
        (digit, move_mask_i8_m128i(marks) as u32)
    }

    #[inline(always)]
    fn marks_in(text: &[u8], start: usize, marks: u32) -> Candidates {
        if marks == 0 {
            0
        } else {
            marks_at(text, start, u64::from(marks), 0)
        }
    }

    /// The sum of the lanes' counts.
    #[inline(always)]
    fn sum(lanes: m128i) -> u32 {
        let [low, high] = <[u64; 2]>::from(sum_of_u8_abs_diff_m128i(lanes, zeroed_m128i()));
        (low + high) as u32
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Texts rich in what the scan looks at, around block boundaries.
    fn marked_text() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            Just(b"@".to_vec()),
            Just(b"eyJ".to_vec()),
            Just(b"Bearer ".to_vec()),
            Just(b"AKIA".to_vec()),
            Just(b"-----".to_vec()),
            Just(b"0123456789".to_vec()),
            Just(b"123-45-6789".to_vec()),
            proptest::collection::vec(any::<u8>(), 0..20),
            "[a-z ]{0,20}".prop_map(String::into_bytes),
        ];
        proptest::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4_000))]

        /// SSE2's pass and the portable one agree, digits and marks, on any
        /// text and at every length around the block sizes.
        #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
        #[test]
        fn both_passes_agree(text in marked_text()) {
            prop_assert_eq!(sse2::scan(&text), words::scan(&text));
        }

        /// The digits counted are the digits in the text.
        #[test]
        fn the_digits_are_counted_exactly(text in marked_text()) {
            let expected = text.iter().filter(|b| b.is_ascii_digit()).count() as u32;
            #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
            prop_assert_eq!(sse2::scan(&text).0, expected);
            prop_assert_eq!(words::scan(&text).0, expected);
        }
    }

    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    #[test]
    fn every_length_and_position() {
        // A digit and a mark at each position of texts of every length up to
        // three blocks and beyond one count's 255 blocks.
        for len in (0..50).chain([4079, 4080, 4081, 4097]) {
            for at in 0..len.min(50) {
                let mut text = vec![b'x'; len];
                text[at] = b'7';
                assert_eq!(sse2::scan(&text).0, 1, "digit at {at} of {len}");
                text[at] = b'@';
                assert_eq!(
                    sse2::scan(&text),
                    (0, bit(BuiltinPattern::Email)),
                    "@ at {at} of {len}"
                );
            }
        }
        let digits = vec![b'5'; 4097];
        assert_eq!(sse2::scan(&digits).0, 4097);
    }
}
