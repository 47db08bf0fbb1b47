// With the facade feature `off`, `#[task_traced]` checks its arguments and
// its carrier, takes the `#[carrier]` marker off, and returns the function
// as written otherwise.
#![deny(warnings)]

use std::collections::HashMap;

use o11y::task::Envelope;

#[o11y::task_traced(fields(order_id = job.payload), err)]
fn process(job: Envelope<u64>) -> Result<u64, String> {
    Ok(job.payload)
}

#[o11y::task_traced(link, args(attempt))]
async fn batch(#[carrier] headers: &HashMap<String, String>, attempt: u32) -> usize {
    headers.len()
}

fn main() {
    assert_eq!(process(Envelope::new("process", 3)), Ok(3));
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    assert_eq!(runtime.block_on(batch(&HashMap::new(), 1)), 0);
}
