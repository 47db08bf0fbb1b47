// A labelled gauge records through the series `labels(..)` returns: its
// methods called on the metric itself say so.
#[o11y::metric(gauge, help = "Jobs waiting", labels(queue))]
static QUEUE_DEPTH: o11y::Gauge;

fn main() {
    QUEUE_DEPTH.set(3.0);
    QUEUE_DEPTH.inc();
    QUEUE_DEPTH.dec();
}
