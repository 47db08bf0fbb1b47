#[o11y::observe(objective(latency = "250" at 99))]
fn handler() {}

fn main() {}
