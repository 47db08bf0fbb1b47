#[o11y::metric(counter, help = "Payments accepted", label(status))]
static PAYMENTS: o11y::Counter;

fn main() {}
