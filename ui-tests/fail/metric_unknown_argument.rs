#[o11y::metric(counter, hepl = "Payments accepted")]
static PAYMENTS: o11y::Counter;

fn main() {}
