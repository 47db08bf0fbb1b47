#[o11y::metric(gauge, help = "Latency quantiles", labels(quantile))]
static LATENCY: o11y::Gauge;

fn main() {}
