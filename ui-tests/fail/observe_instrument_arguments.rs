// `#[tracing::instrument]` habits: `skip_all`, `target` and `ret` spelled
// as instrument spells them are not observe's.
#[o11y::observe(skip_all)]
fn handler(password: &str) -> usize {
    password.len()
}

fn main() {}
