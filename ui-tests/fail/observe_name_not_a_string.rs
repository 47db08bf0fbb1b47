#[o11y::observe(name = checkout)]
fn handler() {}

fn main() {}
