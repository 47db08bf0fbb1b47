// An argument nothing is close to: no "did you mean", the list instead.
#[o11y::observe(banana)]
fn handler() {}

fn main() {}
