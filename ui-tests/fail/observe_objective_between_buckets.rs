#[o11y::observe(objective(latency = "300ms" at 99))]
fn handler() {}

fn main() {}
