#[o11y::metric(histogram, help = "Batch size", buckets = [1, 5, 5, 10])]
static BATCH_SIZE: o11y::Histogram;

fn main() {}
