// A label value must be text, an integer, a bool or a LabelValue enum.
#[o11y::metric(counter, help = "Payments", labels(status, amount))]
static PAYMENTS: o11y::Counter;

struct Status;

fn main() {
    PAYMENTS.labels(Status, 1).inc();
    PAYMENTS.labels("ok", 9.99).inc();
}
