#[o11y::metric(histogram, help = "Latency", unit = "seconds", labels(route, le))]
static LATENCY_SECONDS: o11y::Histogram;

fn main() {}
