#[o11y::metric(gauge, help = "Jobs in the queue")]
static QUEUE_TOTAL: o11y::Gauge;

fn main() {}
