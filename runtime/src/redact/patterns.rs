//! The value rule: the patterns that find secrets and personal data inside
//! text values (e-mail addresses, payment card numbers, JWTs, `Bearer`
//! credentials, AWS access key ids, PEM private keys, US SSNs, phone
//! numbers, and the configuration's own regular expressions).
//!
//! Most text holds none of them, and most of it is short (an id, a path, a
//! message): a value costs one pass over its bytes ([`scan`]), which looks
//! for what each pattern cannot do without (an `@`, enough digits, `eyJ`,
//! `bearer`, `AKIA`/`ASIA`, `-----`). Only the patterns whose mark was seen run, each
//! a `regex` (linear in the text, whatever it holds). What a regex cannot
//! say is checked on its match: a card number's Luhn digit, an SSN's
//! reserved numbers, and that neither is part of a longer run of digits.
//!
//! Custom patterns have no such mark: each runs on every text value.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use super::Rule;
use crate::config::{BuiltinPattern, RedactionPattern};
use scan::{Candidates, bit, candidates};

mod scan;

/// Whether a match of a pattern's regex, at this range of the text, is one
/// (the regex found a candidate; this checks what it cannot say).
type Accept = fn(&str, Range<usize>) -> bool;

/// The bytes a refused match was part of a run of (digits, say): a match
/// starting later in the run would be refused for the same reason, so the
/// search goes on past it. Without it, a long run of digits would be
/// searched again from each of its digits, its time the square of its
/// length.
type Run = fn(u8) -> bool;

/// A built-in pattern, compiled.
struct Builtin {
    pattern: BuiltinPattern,
    regex: Regex,
    /// Only the first capture group is the secret (`Bearer <this>`).
    group: bool,
    accept: Accept,
    run: Run,
}

/// The built-in patterns, in [`BuiltinPattern::ALL`]'s order, compiled
/// once per process.
static BUILTINS: LazyLock<Vec<Builtin>> = LazyLock::new(|| {
    BuiltinPattern::ALL
        .into_iter()
        .map(|pattern| {
            let (source, group, (accept, run)) = definition(pattern);
            Builtin {
                pattern,
                // Fixed expressions, tested below: they compile.
                regex: Regex::new(source)
                    .unwrap_or_else(|e| unreachable!("built-in pattern {source}: {e}")),
                group,
                accept,
                run,
            }
        })
        .collect()
});

/// The expression of a built-in pattern, whether only its first group is
/// the secret, what its matches must also pass and, when they do not, the
/// run of bytes to search past.
fn definition(pattern: BuiltinPattern) -> (&'static str, bool, (Accept, Run)) {
    match pattern {
        BuiltinPattern::PrivateKey => (
            // To the END line, or to the end of a text that was cut.
            r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?s:.*?)(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\z)",
            false,
            ANY,
        ),
        BuiltinPattern::Jwt => (
            r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*",
            false,
            ANY,
        ),
        // A credential has a digit or a sign in it, or is long: "the
        // bearer of bad news" is prose.
        BuiltinPattern::Bearer => (
            r"(?i:bearer)[ \t]+([A-Za-z0-9._~+/-]*[0-9._~+/-][A-Za-z0-9._~+/-]*=*|[A-Za-z]{16,}=*)",
            true,
            ANY,
        ),
        BuiltinPattern::AwsAccessKey => (
            r"(?:AKIA|ASIA)[A-Z0-9]{16}",
            false,
            (alone_upper_alnum, upper_alnum),
        ),
        BuiltinPattern::Email => (
            r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",
            false,
            ANY,
        ),
        BuiltinPattern::CardNumber => (
            r"(?:[0-9]{4}[ -]){3}[0-9]{1,7}|[0-9]{4}[ -][0-9]{6}[ -][0-9]{5}|[0-9]{13,19}",
            false,
            (card_number, digit),
        ),
        BuiltinPattern::UsSsn => (r"[0-9]{3}-[0-9]{2}-[0-9]{4}", false, (us_ssn, digit)),
        BuiltinPattern::Phone => (
            r"(?:\+[0-9]{1,3}[ .-]?)?(?:\([0-9]{3}\)|[0-9]{3})[ .-]?[0-9]{3}[ .-]?[0-9]{4}",
            false,
            (alone_digits, digit),
        ),
    }
}

/// Every match is one: nothing to search past.
const ANY: (Accept, Run) = (any, none);

fn any(_: &str, _: Range<usize>) -> bool {
    true
}

fn none(_: u8) -> bool {
    false
}

fn digit(byte: u8) -> bool {
    byte.is_ascii_digit()
}

fn upper_alnum(byte: u8) -> bool {
    byte.is_ascii_uppercase() || byte.is_ascii_digit()
}

/// Not part of a longer run of digits.
fn alone_digits(text: &str, at: Range<usize>) -> bool {
    let bytes = text.as_bytes();
    let before = at.start.checked_sub(1).map(|i| bytes[i]);
    let after = bytes.get(at.end).copied();
    !before.is_some_and(|b| b.is_ascii_digit()) && !after.is_some_and(|b| b.is_ascii_digit())
}

/// Not part of a longer run of capitals and digits.
fn alone_upper_alnum(text: &str, at: Range<usize>) -> bool {
    let bytes = text.as_bytes();
    let before = at.start.checked_sub(1).map(|i| bytes[i]);
    let after = bytes.get(at.end).copied();
    !before.is_some_and(upper_alnum) && !after.is_some_and(upper_alnum)
}

/// 13 to 19 digits passing the Luhn check, not within a longer number.
fn card_number(text: &str, at: Range<usize>) -> bool {
    if !alone_digits(text, at.clone()) {
        return false;
    }
    let digits: Vec<u32> = text[at]
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| u32::from(b - b'0'))
        .collect();
    (13..=19).contains(&digits.len()) && luhn(&digits)
}

/// The Luhn checksum: from the right, every second digit doubled (less 9
/// past 9), the sum a multiple of 10.
pub(super) fn luhn(digits: &[u32]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| match (i % 2 == 1, d * 2) {
            (true, doubled) if doubled > 9 => doubled - 9,
            (true, doubled) => doubled,
            (false, _) => d,
        })
        .sum();
    sum.is_multiple_of(10)
}

/// `AAA-GG-SSSS` the Social Security Administration could have issued: no
/// area 000, 666 or 900–999, no group 00, no serial 0000, and not within a
/// longer run of digits and dashes (a date, an id).
fn us_ssn(text: &str, at: Range<usize>) -> bool {
    let bytes = text.as_bytes();
    let joined = |b: u8| b.is_ascii_digit() || b == b'-';
    let before = at.start.checked_sub(1).map(|i| bytes[i]);
    let after = bytes.get(at.end).copied();
    if before.is_some_and(joined) || after.is_some_and(joined) {
        return false;
    }
    let ssn = &text[at];
    let (area, group, serial) = (&ssn[0..3], &ssn[4..6], &ssn[7..11]);
    area != "000" && area != "666" && !area.starts_with('9') && group != "00" && serial != "0000"
}

/// A custom pattern of the configuration, compiled.
#[derive(Debug, Clone)]
struct Custom {
    regex: Regex,
    /// It has a capture group: only the first one is the secret.
    group: bool,
}

/// The value rule: the built-in patterns turned on, and the custom ones.
#[derive(Debug, Clone)]
pub(crate) struct ValueRule {
    /// The built-ins that run, a bit each.
    enabled: Candidates,
    custom: Vec<Custom>,
}

impl ValueRule {
    /// The defaults changed by `patterns`, in order. A custom expression
    /// that does not compile is returned, with the regex crate's reason.
    pub(crate) fn new(patterns: &[RedactionPattern]) -> Result<ValueRule, (String, regex::Error)> {
        let mut enabled = BuiltinPattern::ALL
            .into_iter()
            .filter(|p| p.on_by_default())
            .fold(0, |bits, p| bits | bit(p));
        let mut custom = Vec::new();
        for pattern in patterns {
            match pattern {
                RedactionPattern::On(builtin) => enabled |= bit(*builtin),
                RedactionPattern::Off(builtin) => enabled &= !bit(*builtin),
                RedactionPattern::Custom(source) => {
                    let regex = Regex::new(source).map_err(|e| (source.clone(), e))?;
                    let group = regex.captures_len() > 1;
                    custom.push(Custom { regex, group });
                }
            }
        }
        Ok(ValueRule { enabled, custom })
    }

    /// `text` with every match replaced by `replacement`, or `None` when
    /// nothing matched (the usual case, which allocates nothing). Each
    /// match is reported to `matched`.
    #[inline]
    pub(crate) fn scrub(
        &self,
        text: &str,
        replacement: &str,
        matched: impl FnMut(Rule),
    ) -> Option<String> {
        let candidates = candidates(text.as_bytes()) & self.enabled;
        if candidates == 0 && self.custom.is_empty() {
            return None;
        }
        self.replace(candidates, text, replacement, matched)
    }

    /// [`scrub`](Self::scrub) once some pattern may match: out of line, so
    /// that a text with none pays for the scan only.
    #[inline(never)]
    fn replace(
        &self,
        candidates: Candidates,
        text: &str,
        replacement: &str,
        mut matched: impl FnMut(Rule),
    ) -> Option<String> {
        let mut current = Cow::Borrowed(text);
        for builtin in BUILTINS.iter().filter(|b| candidates & bit(b.pattern) != 0) {
            let rule = Rule::Pattern(builtin.pattern);
            let found = replace(
                &builtin.regex,
                builtin.group,
                (builtin.accept, builtin.run),
                &current,
                replacement,
                || matched(rule),
            );
            if let Some(replaced) = found {
                current = Cow::Owned(replaced);
            }
        }
        for custom in &self.custom {
            if let Some(replaced) = replace(
                &custom.regex,
                custom.group,
                ANY,
                &current,
                replacement,
                || matched(Rule::Custom),
            ) {
                current = Cow::Owned(replaced);
            }
        }
        match current {
            Cow::Owned(scrubbed) => Some(scrubbed),
            Cow::Borrowed(_) => None,
        }
    }
}

/// `text` with the accepted matches of `regex` (or their first group)
/// replaced; `None` when none was accepted.
fn replace(
    regex: &Regex,
    group: bool,
    (accept, run): (Accept, Run),
    text: &str,
    replacement: &str,
    mut matched: impl FnMut(),
) -> Option<String> {
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut put = |secret: Range<usize>, out: &mut Option<String>| {
        let out = out.get_or_insert_with(|| String::with_capacity(text.len()));
        out.push_str(&text[copied..secret.start]);
        out.push_str(replacement);
        copied = secret.end;
        matched();
    };
    if group {
        for captures in regex.captures_iter(text) {
            let whole = captures.get(0).map_or(0..0, |m| m.range());
            if let Some(secret) = captures.get(1)
                && !secret.is_empty()
                && accept(text, whole)
            {
                put(secret.range(), &mut out);
            }
        }
    } else {
        let mut at = 0;
        while let Some(found) = regex.find_at(text, at) {
            if !found.is_empty() && accept(text, found.range()) {
                put(found.range(), &mut out);
                at = found.end();
            } else {
                // Not one (a number that fails its check, or part of a
                // longer one): a shorter match may start further in, like
                // a card number after other groups of digits, but not
                // within the run it was refused for. Only the bounded
                // patterns refuse matches, each searched once from past
                // its run: linear in the text.
                let rest = &text[found.start()..];
                let past_run = rest.bytes().take_while(|&b| run(b)).count();
                match rest.chars().next() {
                    Some(c) => at = found.start() + past_run.max(c.len_utf8()),
                    None => break,
                }
            }
        }
    }
    let mut out = out?;
    out.push_str(&text[copied..]);
    Some(out)
}

#[cfg(test)]
mod tests;
