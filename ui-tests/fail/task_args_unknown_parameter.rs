#[o11y::task_traced(args(order))]
fn process(job: o11y::task::Envelope<u64>, attempt: u32) -> u64 {
    job.payload + u64::from(attempt)
}

fn main() {}
