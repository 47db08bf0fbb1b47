#[o11y::observe(level = "wran")]
fn handler() {}

fn main() {}
