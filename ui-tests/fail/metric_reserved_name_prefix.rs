#[o11y::metric(gauge, help = "Internal", name = "__internal")]
static INTERNAL: o11y::Gauge;

fn main() {}
