// With `off`, #[metric] still validates the declaration.
#[o11y::metric(counter, help = "Payments accepted", name = "payments")]
static PAYMENTS: o11y::Counter;

#[o11y::metric(histogram, help = "Latency", buckets = [1, 0.5])]
static LATENCY: o11y::Histogram;

#[o11y::metric(gauge, hepl = "Queue")]
static QUEUE: o11y::Gauge;

fn main() {}
