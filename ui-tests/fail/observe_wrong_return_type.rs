// The declared return type still rules an observed function: an early
// `return` and the tail of the wrong type are reported where they are.
#[o11y::observe]
fn name(id: u32) -> String {
    if id == 0 {
        return 0;
    }
    id
}

fn main() {}
