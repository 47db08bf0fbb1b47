// A gauge has no exemplars to turn off; `exemplars` takes a bool.
#[o11y::metric(gauge, help = "Jobs waiting", exemplars = false)]
static QUEUE_DEPTH: o11y::Gauge;

#[o11y::metric(counter, help = "Cache hits", exemplars = "no")]
static CACHE_HITS: o11y::Counter;

fn main() {}
