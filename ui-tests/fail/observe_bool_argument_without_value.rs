#[o11y::observe(metrics)]
fn handler() {}

fn main() {}
