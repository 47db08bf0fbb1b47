use o11y::{Counter, metric};

#[metric(counter, help = "Calls", labels(self))]
static CALLS: Counter;

fn main() {}
