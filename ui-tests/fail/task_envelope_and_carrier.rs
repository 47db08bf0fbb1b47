use std::collections::HashMap;

use o11y::task::Envelope;

#[o11y::task_traced]
async fn process(job: Envelope<u64>, #[carrier] headers: HashMap<String, String>) -> u64 {
    job.payload + headers.len() as u64
}

fn main() {}
