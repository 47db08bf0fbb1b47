#[o11y::metric(counter, help = "Payments", labels())]
static PAYMENTS: o11y::Counter;

fn main() {}
