// `args` records every parameter, `args(a, b)` the listed ones,
// `args, skip(...)` every parameter but the skipped ones. Numbers and bools
// are recorded as such, text with Display, anything else with Debug.
#![deny(warnings)]

use o11y::observe;

#[derive(Debug)]
struct Card {
    last4: u16,
}

#[observe(args)]
fn all(id: u64, name: &str, owned: String, flag: bool, card: Card) -> u64 {
    id + name.len() as u64 + owned.len() as u64 + u64::from(flag) + u64::from(card.last4)
}

#[observe(args(id, name))]
fn listed(id: u64, name: &str, password: &str) -> usize {
    id as usize + name.len() + password.len()
}

#[observe(args, skip(password, card))]
fn skipped(user: &str, password: &str, card: &Card) -> usize {
    user.len() + password.len() + usize::from(card.last4)
}

struct Repo;

impl Repo {
    // `args(self)` records the receiver (as `self_`, with Debug).
    #[observe(args(self, id))]
    fn get(&self, id: u32) -> u32 {
        id
    }
}

// A parameter that may be configured out is never recorded by bare `args`.
#[observe(args)]
fn configured(#[cfg(any())] hidden: u32, shown: u32) -> u32 {
    shown
}

impl std::fmt::Debug for Repo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Repo")
    }
}

fn main() {
    assert_eq!(all(1, "ab", "c".to_owned(), true, Card { last4: 10 }), 15);
    assert_eq!(listed(1, "ab", "secret"), 9);
    assert_eq!(skipped("ada", "secret", &Card { last4: 1 }), 10);
    assert_eq!(Repo.get(4), 4);
    assert_eq!(configured(3), 3);
}
