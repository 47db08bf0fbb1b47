#[track_caller]
#[o11y::observe]
fn checked(index: usize) -> usize {
    index
}

fn main() {}
