#[o11y::observe(level = "verbose")]
fn handler() {}

fn main() {}
