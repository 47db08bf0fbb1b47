// `labels(..)` takes one value per label name: a wrong count is an error
// at the call, naming the parameters.
#[o11y::metric(counter, help = "Payments", labels(status, method))]
static PAYMENTS: o11y::Counter;

fn main() {
    PAYMENTS.labels("ok").inc();
    PAYMENTS.labels("ok", "card", "eu").inc();
}
