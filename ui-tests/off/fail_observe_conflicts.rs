// With `off`, conflicting arguments and unknown parameters are still errors.
#[o11y::observe(span = false, fields(user = 1))]
fn handler() {}

#[o11y::observe(args, skip(pasword))]
fn login(user: &str, password: &str) -> bool {
    user != password
}

fn main() {}
