// `_total` is added to a name taken from the static, never to `name = ".."`.
#[o11y::metric(counter, help = "Payments accepted", name = "payments")]
static PAYMENTS: o11y::Counter;

fn main() {}
