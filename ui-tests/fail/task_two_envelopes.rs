use o11y::task::Envelope;

#[o11y::task_traced]
fn merge(first: Envelope<u64>, second: Envelope<u64>) -> u64 {
    first.payload + second.payload
}

fn main() {}
