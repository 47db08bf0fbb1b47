// With `off`, `labels(..)` still takes one value per label name.
#[o11y::metric(counter, help = "Payments", labels(status, method))]
static PAYMENTS: o11y::Counter;

fn main() {
    PAYMENTS.labels("ok").inc();
}
