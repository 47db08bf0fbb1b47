use o11y::{Histogram, metric};

#[metric(histogram, help = "Sizes", unit = "bytes", buckets = [0.1, 1e400])]
static SIZE_BYTES: Histogram;

fn main() {}
