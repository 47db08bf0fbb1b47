#[o11y::metric(counter, help = "Payments")]
static PAYMENTS: o11y::Gauge;

fn main() {
    PAYMENTS.inc();
}
