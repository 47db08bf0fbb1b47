#[o11y::metric(counter, help = "Payments accepted", help = "Payments")]
static PAYMENTS: o11y::Counter;

fn main() {}
