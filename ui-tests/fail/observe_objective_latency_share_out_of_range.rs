#[o11y::observe(objective(latency = "250ms" at 0))]
fn handler() {}

fn main() {}
