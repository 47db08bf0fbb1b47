// With `off`, misuse of #[observe] still fails to compile.
#[o11y::observe(feilds(user = 1))]
fn handler() {}

fn main() {}
