#[o11y::metric(counter, help = "Payments")]
fn payments() {}

fn main() {}
