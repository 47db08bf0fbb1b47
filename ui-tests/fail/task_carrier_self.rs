use std::collections::HashMap;

struct Worker(HashMap<String, String>);

impl Worker {
    #[o11y::task_traced]
    fn process(#[carrier] &self, body: &[u8]) -> usize {
        self.0.len() + body.len()
    }
}

fn main() {}
