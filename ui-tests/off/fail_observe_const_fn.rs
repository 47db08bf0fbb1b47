#[o11y::observe]
const fn answer() -> u32 {
    42
}

fn main() {}
