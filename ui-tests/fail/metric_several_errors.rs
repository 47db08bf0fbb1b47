// Every mistake is reported, each at its token, and the static is still
// declared, so its uses add no errors of their own.
#[o11y::metric(counter, hepl = "Payments", labels(status, le), unit = "seconds", buckets = [1])]
static PAYMENTS: o11y::Counter;

fn main() {
    PAYMENTS.labels("ok", "1").inc();
}
