// A field without `%` or `?` must be a tracing value (number, bool, text).
struct User {
    id: u64,
}

#[o11y::observe(fields(user = user))]
fn handler(user: &User) -> u64 {
    user.id
}

fn main() {}
