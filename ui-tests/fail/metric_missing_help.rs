#[o11y::metric(counter, labels(status))]
static PAYMENTS: o11y::Counter;

fn main() {
    PAYMENTS.labels("ok").inc();
}
