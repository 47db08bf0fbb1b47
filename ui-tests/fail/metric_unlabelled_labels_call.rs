// A metric without labels has no `labels(..)`.
#[o11y::metric(counter, help = "Payments")]
static PAYMENTS: o11y::Counter;

fn main() {
    PAYMENTS.labels("ok").inc();
}
