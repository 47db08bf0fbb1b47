#[o11y::task_traced]
fn process(#[carrier] body: Vec<u8>) -> usize {
    body.len()
}

fn main() {}
