// `#[observe]` with no arguments on a sync and an async free function,
// called without `init`: o11y is off, the functions behave as written.
#![deny(warnings)]

use o11y::observe;

#[observe]
fn add(a: u32, b: u32) -> u32 {
    a + b
}

#[observe]
async fn double(x: u64) -> u64 {
    x * 2
}

#[o11y::observe]
fn nothing() {}

fn main() {
    assert_eq!(add(2, 3), 5);
    nothing();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(runtime.block_on(double(21)), 42);
}
