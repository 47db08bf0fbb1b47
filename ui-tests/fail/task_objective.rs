#[o11y::task_traced(objective(success = 99.9))]
fn process(job: o11y::task::Envelope<u64>) -> u64 {
    job.payload
}

fn main() {}
