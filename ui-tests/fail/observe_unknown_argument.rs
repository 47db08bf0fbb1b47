// A misspelled argument: the error is at it, with the closest argument.
#[o11y::observe(feilds(user = 1))]
fn handler() {}

fn main() {}
