#[o11y::metric(counter, help = "Payments")]
const PAYMENTS: o11y::Counter;

fn main() {}
