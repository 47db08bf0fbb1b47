#[o11y::observe(span = false, fields(user = 1))]
fn handler() {}

fn main() {}
