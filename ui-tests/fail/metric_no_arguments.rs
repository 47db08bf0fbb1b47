#[o11y::metric]
static PAYMENTS: o11y::Counter;

fn main() {}
