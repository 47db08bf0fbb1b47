// Arguments are not captured unless named: `skip` alone has nothing to skip.
#[o11y::observe(skip(password))]
fn login(user: &str, password: &str) -> bool {
    user != password
}

fn main() {}
