#[o11y::metric(counter, help = "Payments")]
static mut PAYMENTS: o11y::Counter;

fn main() {}
