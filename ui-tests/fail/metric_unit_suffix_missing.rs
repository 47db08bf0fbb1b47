#[o11y::metric(histogram, help = "Request latency", unit = "seconds")]
static REQUEST_LATENCY: o11y::Histogram;

fn main() {}
