#[o11y::metric(counter, help = "Payments", labels(status), series_cap = 0)]
static PAYMENTS: o11y::Counter;

fn main() {}
