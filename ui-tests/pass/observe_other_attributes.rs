// Other attributes before and after `#[observe]`: `#[inline]`,
// `#[allow(..)]`, `#[must_use]`, `#[cfg_attr]`, doc comments, `#[deprecated]`.
#![deny(warnings)]

use o11y::observe;

/// Documented before the attribute.
#[inline]
#[observe]
fn inlined(x: u8) -> u8 {
    x
}

#[observe]
#[inline(always)]
#[allow(unused_variables)]
fn after(x: u8, unused: u8) -> u8 {
    x
}

#[allow(clippy::needless_return)]
#[observe(level = "debug")]
#[must_use]
fn needless() -> u8 {
    return 3;
}

#[cfg_attr(test, inline)]
#[observe]
/// Documented after the attribute.
#[deprecated(note = "use `inlined`")]
fn old() -> u8 {
    4
}

#[inline(never)]
#[observe]
async fn async_inline() -> u8 {
    5
}

#[allow(deprecated)]
fn main() {
    assert_eq!(inlined(1) + after(2, 0) + needless() + old(), 10);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(runtime.block_on(async_inline()), 5);
}
