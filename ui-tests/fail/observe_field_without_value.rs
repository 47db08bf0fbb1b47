// Arguments are not captured unless named, and a field needs a value.
#[o11y::observe(fields(user.id))]
fn handler(user: u64) -> u64 {
    user
}

fn main() {}
