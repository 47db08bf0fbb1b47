#[o11y::observe(span = "no")]
fn handler() {}

fn main() {}
