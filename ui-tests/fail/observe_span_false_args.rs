#[o11y::observe(args(id), span = false)]
fn handler(id: u64) -> u64 {
    id
}

fn main() {}
