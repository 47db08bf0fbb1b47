// The same for a labelled metric declared by hand.
use o11y::metrics::{CounterVec, MetricDesc};

static PAYMENTS: CounterVec<2> = CounterVec::new(
    MetricDesc::counter("payments_total", "Payments").labels(&["status", "method"]),
);

fn main() {
    PAYMENTS.inc();
}
