#[o11y::observe(objective(succes = 99.9))]
fn handler() {}

fn main() {}
