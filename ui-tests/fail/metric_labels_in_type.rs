#[o11y::metric(counter, help = "Payments")]
static PAYMENTS: o11y::metrics::CounterVec<2>;

fn main() {}
