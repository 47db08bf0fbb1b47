#[o11y::observe(args(user), skip(password))]
fn login(user: &str, password: &str) -> bool {
    user != password
}

fn main() {}
