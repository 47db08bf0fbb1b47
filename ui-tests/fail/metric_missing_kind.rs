// The metric type comes first.
#[o11y::metric(help = "Payments accepted")]
static PAYMENTS: o11y::Counter;

fn main() {
    PAYMENTS.inc();
}
