// `crate = path` to something that is not o11y.
mod my {}

#[o11y::observe(crate = my::o11y)]
fn handler() {}

fn main() {}
