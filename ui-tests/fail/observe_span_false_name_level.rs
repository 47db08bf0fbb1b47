// Both conflicts are reported, each at its own argument.
#[o11y::observe(name = "x", level = "debug", span = false)]
fn handler() {}

fn main() {}
