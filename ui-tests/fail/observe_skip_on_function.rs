// Bare `skip` opts a method out of an observed impl block; on a function it
// means nothing.
#[o11y::observe(skip)]
fn handler() {}

fn main() {}
