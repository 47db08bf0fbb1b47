// `ret` logs the returned value with Debug.
struct Token(u64);

#[o11y::observe(ret)]
fn issue() -> Token {
    Token(1)
}

fn main() {}
