#[o11y::task_traced]
fn worker_loop(job: o11y::task::Envelope<u64>) -> ! {
    let _ = job;
    loop {}
}

fn main() {}
