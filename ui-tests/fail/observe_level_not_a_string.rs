#[o11y::observe(level = debug)]
fn handler() {}

fn main() {}
