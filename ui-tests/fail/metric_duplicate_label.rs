#[o11y::metric(counter, help = "Payments", labels(status, method, status))]
static PAYMENTS: o11y::Counter;

fn main() {}
