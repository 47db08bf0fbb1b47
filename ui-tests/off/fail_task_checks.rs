// With the facade feature `off`, the carrier and the arguments are still checked.
#[o11y::task_traced]
fn no_carrier(order_id: u64) -> u64 {
    order_id
}

#[o11y::task_traced(retries = 3)]
fn unknown(job: o11y::task::Envelope<u64>) -> u64 {
    job.payload
}

fn main() {}
