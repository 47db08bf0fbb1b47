//! Property tests of the redaction engine against hostile text: whatever
//! a value holds, scrubbing returns valid UTF-8 without panicking, a
//! planted secret never survives whatever surrounds it, and the work grows
//! linearly with the text (no pattern's rejected matches make it
//! quadratic). Named `hostile_*` so that `scripts/fuzz.sh` runs them for
//! as many cases as it is told (`PROPTEST_CASES`); `cargo test` runs
//! proptest's default number.

use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::tests::SECRETS;
use super::*;
use crate::config::{BuiltinPattern, RedactionConfig, RedactionPattern};

/// The defaults, with the phone pattern (off by default) turned on when
/// asked: it is the pattern with the most candidates.
fn redactor(phone: bool) -> Redactor {
    let mut config = RedactionConfig::default();
    if phone {
        config.patterns = vec![RedactionPattern::On(BuiltinPattern::Phone)];
    }
    Redactor::new(&config).expect("the defaults are valid")
}

/// Text around a planted secret: anything, but cut off from it by a space,
/// so that it cannot make the secret part of a longer number or word.
fn neighbour() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-zA-Z0-9 @._:/=-]{0,40}",
        Just(String::new()),
    ]
}

/// What the scan and the patterns look at, in runs: the pieces a text
/// repeated many times is made of.
fn hostile_unit() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[0-9]{1,20}",
        "[0-9 .()+-]{1,12}",
        "[a-z]{0,3}@[a-z.]{0,4}",
        Just("eyJ".to_owned()),
        Just("eyJa.b".to_owned()),
        Just("Bearer ".to_owned()),
        Just("AKIA".to_owned()),
        Just("-----BEGIN PRIVATE KEY-----".to_owned()),
        Just("-----".to_owned()),
        "[ -~]{1,8}",
    ];
    proptest::collection::vec(piece, 1..6).prop_map(|pieces| pieces.concat())
}

/// The least time, of three, that scrubbing `text` takes.
fn least_time(redactor: &Redactor, text: &str) -> Duration {
    (0..3)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(redactor.scrub(std::hint::black_box(text), Signal::Logs));
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

/// Whether scrubbing `unit` repeated to 64 times the length of a short
/// text takes at most ten times the 64× a linear engine would: a quadratic
/// one takes 64 times more again. The short text is long enough (512
/// bytes) for its time to be measured, the long one short enough (32 KiB)
/// for a debug build.
fn grows_linearly(redactor: &Redactor, unit: &str) -> Result<(), String> {
    const SHORT: usize = 512;
    const FACTOR: usize = 64;
    const SLACK: u32 = 10;
    let short = unit.repeat(SHORT.div_ceil(unit.len()));
    let long = short.repeat(FACTOR);
    let (short_time, long_time) = (least_time(redactor, &short), least_time(redactor, &long));
    let bound = short_time.max(Duration::from_micros(1)) * (FACTOR as u32 * SLACK);
    if long_time <= bound {
        Ok(())
    } else {
        Err(format!(
            "{unit:?} × {}: {short_time:?}, × {}: {long_time:?} (over {bound:?})",
            short.len() / unit.len(),
            long.len() / unit.len()
        ))
    }
}

#[test]
fn hostile_redaction_of_known_worst_cases_grows_linearly() {
    let redactor = redactor(true);
    // Each makes some pattern find a candidate at every position and
    // refuse it (a number within a longer one, an SSN with a reserved area,
    // a key id within capitals), or never find the end it looks for.
    for unit in [
        "1",
        "4111 ",
        "1-",
        "000-00-0000-",
        "AKIAAAAAAAAAAAAAAAAAAA",
        "a@",
        "@a.",
        "eyJ",
        "eyJa.",
        "bearer ",
        "-----BEGIN PRIVATE KEY-----",
        "(415) ",
        "+1 ",
    ] {
        grows_linearly(&redactor, unit).unwrap_or_else(|e| panic!("{e}"));
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        max_shrink_iters: 4096,
        ..ProptestConfig::default()
    })]

    /// Whatever the text, scrubbing returns, and what it returns is the
    /// text itself or valid UTF-8 with the replacement in it.
    #[test]
    fn hostile_redaction_never_panics(text in any::<String>(), phone in any::<bool>()) {
        let redactor = redactor(phone);
        if let Some(scrubbed) = redactor.scrub(&text, Signal::Logs) {
            prop_assert!(scrubbed.contains(redactor.replacement()), "{text:?} became {scrubbed:?}");
        }
        let _ = redactor.query(&text, Signal::Traces);
        let _ = redactor.is_sensitive_key(&text);
    }

    /// Whatever surrounds a secret, it does not survive.
    #[test]
    fn hostile_redaction_planted_secret_never_survives(
        before in neighbour(),
        after in neighbour(),
        which in 0..SECRETS.len(),
        phone in any::<bool>(),
    ) {
        let (secret, core) = SECRETS[which];
        let text = format!("{before} {secret} {after}");
        let scrubbed = redactor(phone).scrub(&text, Signal::Logs).unwrap_or(text.clone());
        prop_assert!(!scrubbed.contains(core), "{text:?} became {scrubbed:?}");
    }
}

/// Cases of the linearity property: few under `cargo test` (each scrubs
/// 100 KiB), as many as `scripts/fuzz.sh` says.
fn linearity_cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(8)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: linearity_cases(),
        max_shrink_iters: 256,
        ..ProptestConfig::default()
    })]

    /// Whatever a text is made of, the work grows with its length, not its
    /// square.
    #[test]
    fn hostile_redaction_time_is_linear_in_the_input(unit in hostile_unit(), phone in any::<bool>()) {
        let redactor = redactor(phone);
        if let Err(e) = grows_linearly(&redactor, &unit) {
            prop_assert!(false, "{}", e);
        }
    }
}
