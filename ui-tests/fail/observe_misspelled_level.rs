#[o11y::observe(levle = "debug")]
fn handler() {}

fn main() {}
