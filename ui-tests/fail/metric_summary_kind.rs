// Summaries are not offered: a histogram aggregates across instances.
#[o11y::metric(summary, help = "Latency")]
static LATENCY: o11y::Histogram;

fn main() {}
