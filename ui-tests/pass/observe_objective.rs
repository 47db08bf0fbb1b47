// `objective(..)`: a success ratio, a latency threshold (a bucket of
// function_calls_duration_seconds) met by a share of calls, or both; the
// call site carries it for `o11y rules` and `o11y dashboards`.
#![deny(warnings)]

use o11y::observe;

#[observe(objective(success = 99.9, latency = "250ms" at 99))]
fn both() -> u8 {
    1
}

#[observe(objective(success = 99))]
async fn success_only() -> Result<u8, String> {
    Ok(2)
}

#[observe(objective(latency = "1s" at 95 %), err)]
fn latency_only_with_a_percent_sign() -> Result<u8, String> {
    Ok(3)
}

#[observe(objective(latency = "2.5s" at 99.5, success = 99.95,), concurrency)]
fn any_order_and_a_trailing_comma() -> u8 {
    4
}

struct Repo;

#[observe]
impl Repo {
    #[observe(objective(success = 99.9))]
    fn find(&self) -> u8 {
        5
    }
}

fn main() {
    assert_eq!(both(), 1);
    assert_eq!(latency_only_with_a_percent_sign(), Ok(3));
    assert_eq!(any_order_and_a_trailing_comma(), 4);
    assert_eq!(Repo.find(), 5);
    drop(success_only());
}
