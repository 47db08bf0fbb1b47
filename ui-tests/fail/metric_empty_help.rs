#[o11y::metric(counter, help = "  ")]
static PAYMENTS: o11y::Counter;

fn main() {}
