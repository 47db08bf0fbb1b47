#[o11y::observe(metrics = false, objective(success = 99.9))]
fn handler() {}

fn main() {}
