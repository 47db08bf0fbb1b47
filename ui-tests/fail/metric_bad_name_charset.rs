#[o11y::metric(counter, help = "Payments accepted", name = "payments-accepted_total")]
static PAYMENTS: o11y::Counter;

fn main() {}
