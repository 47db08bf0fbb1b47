// `impl Trait` in return position, alone and inside `Result<impl Trait, E>`,
// with `?` and early `return` in the body; and `impl Trait` arguments.
#![deny(warnings)]

use std::fmt::Display;

use o11y::observe;

#[observe]
fn evens(limit: u32) -> impl Iterator<Item = u32> {
    (0..limit).filter(|n| n % 2 == 0)
}

#[observe(err)]
fn parsed(text: &str) -> Result<impl Display, std::num::ParseIntError> {
    if text.is_empty() {
        return Ok(0);
    }
    let value: i64 = text.parse()?;
    Ok(value)
}

#[observe]
fn boxed_closure(offset: u32) -> Box<dyn Fn(u32) -> u32> {
    Box::new(move |x| x + offset)
}

#[observe]
fn adder(offset: u32) -> impl Fn(u32) -> u32 {
    move |x| x + offset
}

#[observe]
async fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
}

#[observe]
fn show(value: impl Display) -> String {
    value.to_string()
}

fn main() {
    assert_eq!(evens(5).collect::<Vec<_>>(), vec![0, 2, 4]);
    assert_eq!(parsed("12").unwrap().to_string(), "12");
    assert_eq!(parsed("").unwrap().to_string(), "0");
    assert!(parsed("x").is_err());
    assert_eq!(boxed_closure(1)(1), 2);
    assert_eq!(adder(2)(1), 3);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(runtime.block_on(lines("a\nb")).count(), 2);
    assert_eq!(show(7), "7");
}
