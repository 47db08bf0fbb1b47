#[o11y::metric(countr, help = "Payments accepted")]
static PAYMENTS: o11y::Counter;

fn main() {}
