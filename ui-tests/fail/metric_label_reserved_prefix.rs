#[o11y::metric(counter, help = "Payments", labels(status, __x))]
static PAYMENTS: o11y::Counter;

fn main() {}
