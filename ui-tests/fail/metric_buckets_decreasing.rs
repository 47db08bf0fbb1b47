#[o11y::metric(histogram, help = "Latency", unit = "seconds", buckets = [0.5, 0.1, 1.0])]
static LATENCY_SECONDS: o11y::Histogram;

fn main() {}
