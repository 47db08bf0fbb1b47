const LIMIT: f64 = 10.0;

#[o11y::metric(histogram, help = "Batch size", buckets = [1.0, "5", LIMIT])]
static BATCH_SIZE: o11y::Histogram;

fn main() {}
