#[o11y::observe(crate = o11y, crate = o11y)]
fn handler() {}

fn main() {}
