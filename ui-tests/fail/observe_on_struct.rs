#[o11y::observe]
struct Handler {
    id: u64,
}

fn main() {}
