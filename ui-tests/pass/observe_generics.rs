// Generic functions: type and const parameters, where-clauses, lifetimes
// (elided and named), async generics borrowing their arguments.
#![deny(warnings)]

use std::fmt::Display;

use o11y::observe;

#[observe]
fn largest<T: PartialOrd + Copy>(items: &[T]) -> Option<T> {
    let mut best = *items.first()?;
    for &item in items {
        if item > best {
            best = item;
        }
    }
    Some(best)
}

#[observe(args)]
fn longest<'a, 'b: 'a>(a: &'a str, b: &'b str) -> &'a str {
    if a.len() >= b.len() { a } else { b }
}

#[observe]
fn join<I, T>(items: I, separator: &str) -> String
where
    I: IntoIterator<Item = T>,
    T: Display,
{
    items
        .into_iter()
        .map(|item| item.to_string())
        .collect::<Vec<_>>()
        .join(separator)
}

#[observe]
fn sum_array<const N: usize>(values: [u32; N]) -> u32 {
    values.iter().sum()
}

#[observe]
async fn first_word<'a>(text: &'a str) -> &'a str {
    text.split_whitespace().next().unwrap_or("")
}

#[observe(err)]
async fn parse_all<T>(texts: &[&str]) -> Result<Vec<T>, T::Err>
where
    T: std::str::FromStr,
    T::Err: Display,
{
    texts.iter().map(|t| t.parse::<T>()).collect()
}

struct Wrapper<T>(T);

impl<T: Clone + Display> Wrapper<T> {
    #[observe]
    fn get(&self) -> T {
        self.0.clone()
    }

    #[observe]
    fn map<U, F: FnOnce(T) -> U>(self, f: F) -> Wrapper<U> {
        Wrapper(f(self.0))
    }
}

fn main() {
    assert_eq!(largest(&[3, 9, 2]), Some(9));
    assert_eq!(largest::<u8>(&[]), None);
    assert_eq!(longest("abc", "de"), "abc");
    assert_eq!(join([1, 2, 3], ","), "1,2,3");
    assert_eq!(sum_array([1, 2, 3, 4]), 10);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(runtime.block_on(first_word("hello world")), "hello");
    assert_eq!(
        runtime.block_on(parse_all::<u8>(&["1", "2"])),
        Ok(vec![1, 2])
    );
    assert!(runtime.block_on(parse_all::<u8>(&["x"])).is_err());
    assert_eq!(Wrapper(4).get(), 4);
    assert_eq!(Wrapper(4).map(|x| x * 2).0, 8);
}
