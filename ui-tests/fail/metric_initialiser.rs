#[o11y::metric(counter, help = "Payments")]
static PAYMENTS: o11y::Counter = o11y::Counter::new(o11y::metrics::MetricDesc::counter(
    "payments_total",
    "Payments",
));

fn main() {}
