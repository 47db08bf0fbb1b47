#[o11y::metric(counter, help = "Payments", series_cap = 100)]
static PAYMENTS: o11y::Counter;

fn main() {}
