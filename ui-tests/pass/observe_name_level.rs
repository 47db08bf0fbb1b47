// `name = "..."` replaces the span name; `level = "..."` sets its level
// (any case, `warning` too).
#![deny(warnings)]

use o11y::observe;

#[observe(name = "checkout.place_order")]
fn place_order() -> u8 {
    1
}

#[observe(level = "debug")]
fn lookup() -> u8 {
    2
}

#[observe(name = "hot", level = "TRACE")]
fn hot() -> u8 {
    3
}

#[observe(level = "warning")]
fn noisy() -> u8 {
    4
}

fn main() {
    assert_eq!(place_order() + lookup() + hot() + noisy(), 10);
}
