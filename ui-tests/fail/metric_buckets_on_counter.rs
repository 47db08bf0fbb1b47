#[o11y::metric(counter, help = "Payments", buckets = [1, 2, 3])]
static PAYMENTS: o11y::Counter;

fn main() {}
