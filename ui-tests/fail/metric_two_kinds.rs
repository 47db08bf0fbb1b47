#[o11y::metric(counter, gauge, help = "Payments accepted")]
static PAYMENTS: o11y::Counter;

fn main() {}
