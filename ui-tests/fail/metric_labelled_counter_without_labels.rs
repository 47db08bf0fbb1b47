// A labelled counter records through the series `labels(..)` returns: its
// methods called on the metric itself say so.
#[o11y::metric(counter, help = "Items sold", labels(category))]
static ITEMS: o11y::Counter;

fn main() {
    ITEMS.inc();
    ITEMS.inc_by(2);
    let _ = ITEMS.get();
}
