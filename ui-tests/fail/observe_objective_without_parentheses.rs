#[o11y::observe(objective = 99.9)]
fn handler() {}

fn main() {}
