#[o11y::observe(objective(success = 99, success = 99.9))]
fn handler() {}

fn main() {}
