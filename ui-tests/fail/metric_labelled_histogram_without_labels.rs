// A labelled histogram records through the series `labels(..)` returns:
// its methods called on the metric itself say so.
#[o11y::metric(histogram, help = "Checkout latency", unit = "seconds", labels(route))]
static CHECKOUT_SECONDS: o11y::Histogram;

fn main() {
    CHECKOUT_SECONDS.observe(0.25);
    let _timer = CHECKOUT_SECONDS.start_timer();
}
