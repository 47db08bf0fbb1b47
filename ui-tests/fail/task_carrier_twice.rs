use std::collections::HashMap;

#[o11y::task_traced]
fn process(#[carrier] #[carrier] headers: &HashMap<String, String>) -> usize {
    headers.len()
}

fn main() {}
