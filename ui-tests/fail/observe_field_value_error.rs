// An error in a field's expression points into the attribute.
#[o11y::observe(fields(user.id = user.idd))]
fn handler(user: User) {}

struct User {
    id: u64,
}

fn main() {}
