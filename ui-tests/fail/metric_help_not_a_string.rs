#[o11y::metric(counter, help = payments)]
static PAYMENTS: o11y::Counter;

fn main() {}
