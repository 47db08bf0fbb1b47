#[o11y::observe(objective(success = 100))]
fn handler() {}

fn main() {}
