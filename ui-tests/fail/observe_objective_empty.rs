#[o11y::observe(objective())]
fn handler() {}

fn main() {}
