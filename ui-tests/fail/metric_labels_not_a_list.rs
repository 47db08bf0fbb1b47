use o11y::{Counter, metric};

#[metric(counter, help = "Calls", labels = status)]
static CALLS: Counter;

fn main() {}
