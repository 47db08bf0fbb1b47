#[o11y::observe(name = "a", level = "debug", name = "b")]
fn handler() {}

fn main() {}
