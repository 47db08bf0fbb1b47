#[o11y::observe(metrics = false, concurrency)]
fn handler() {}

fn main() {}
