// `err` logs a `Result`'s error: on a function that cannot return one, the
// error points at `err`.
#[o11y::observe(err)]
fn answer() -> u32 {
    42
}

fn main() {
    answer();
}
