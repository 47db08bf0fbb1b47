use o11y::task::Envelope;

#[track_caller]
#[o11y::task_traced]
fn process(job: Envelope<u32>) -> u32 {
    job.payload
}

fn main() {}
