#[o11y::task_traced(retries = 3)]
fn process(job: o11y::task::Envelope<u64>) -> u64 {
    job.payload
}

fn main() {}
