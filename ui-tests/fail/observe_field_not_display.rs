// A field's value that cannot be recorded is reported at that value.
struct User {
    id: u64,
}

#[o11y::observe(fields(user.id = user.id, user = %user, raw = ?user))]
fn handler(user: &User) -> u64 {
    user.id
}

fn main() {}
