// A counter only goes up.
#[o11y::metric(counter, help = "Payments", labels(status))]
static PAYMENTS: o11y::Counter;

fn main() {
    PAYMENTS.labels("ok").set(1.0);
}
