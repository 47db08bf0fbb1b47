use o11y::task::Envelope;

#[o11y::task_traced]
fn process(Envelope { payload, .. }: Envelope<u64>) -> u64 {
    payload
}

fn main() {}
