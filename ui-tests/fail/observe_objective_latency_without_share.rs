#[o11y::observe(objective(latency = "250ms"))]
fn handler() {}

fn main() {}
