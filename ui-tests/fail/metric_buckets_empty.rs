#[o11y::metric(histogram, help = "Batch size", buckets = [])]
static BATCH_SIZE: o11y::Histogram;

fn main() {}
