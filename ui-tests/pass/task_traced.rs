// #[task_traced] on every supported shape: sync and async, the envelope by
// value or by reference, a #[carrier] headers map of either kind (or a
// message type of one's own, even one named `Envelope`), `link`,
// the #[observe] arguments it shares, a generic payload, a method, and
// `crate = path`. Each runs with o11y not initialised (the task runs as
// written) and returns what its body returned.
#![deny(warnings)]

use std::collections::{BTreeMap, HashMap};

use o11y::task::{Envelope, retry};

#[derive(Debug)]
struct Declined;

impl std::fmt::Display for Declined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("declined")
    }
}

#[o11y::task_traced]
fn sync_task(job: Envelope<u64>) -> u64 {
    job.payload * 2
}

#[o11y::task_traced(name = "charge", level = "debug", fields(amount = job.payload), err, ret)]
async fn async_task(job: &Envelope<u64>) -> Result<u64, Declined> {
    if job.payload == 0 {
        retry("nothing to charge yet");
        return Err(Declined);
    }
    Ok(job.payload)
}

#[o11y::task_traced(link, args(body))]
fn batch(#[carrier] headers: &HashMap<String, String>, body: &str) -> usize {
    headers.len() + body.len()
}

#[o11y::task_traced(args, skip(headers))]
fn tree(#[carrier] headers: BTreeMap<String, String>, attempt: u32) -> u32 {
    headers.len() as u32 + attempt
}

#[o11y::task_traced]
fn generic<T: std::fmt::Debug>(job: o11y::task::Envelope<T>) -> String {
    format!("{:?}", job.payload)
}

#[o11y::task_traced]
fn mutable(job: &mut Envelope<Vec<u8>>) {
    job.payload.push(1);
}

struct Worker;

impl Worker {
    #[o11y::task_traced(name = "worker_run")]
    fn run(&self, mut job: Envelope<String>) -> String {
        job.payload.push('!');
        job.payload
    }
}

mod reexport {
    pub use o11y;
}

#[o11y::task_traced(crate = reexport::o11y)]
fn through_reexport(job: Envelope<()>) -> bool {
    job.task_name == "reexported"
}

/// A broker's own message type, named like o11y's envelope.
mod broker {
    use std::collections::HashMap;

    pub struct Envelope {
        pub headers: HashMap<String, String>,
        pub body: Vec<u8>,
    }

    impl o11y::task::Carrier for Envelope {
        fn get(&self, key: &str) -> Option<&str> {
            self.headers.get(key).map(String::as_str)
        }
        fn set(&mut self, key: &str, value: String) {
            self.headers.insert(key.to_owned(), value);
        }
    }
}

#[o11y::task_traced]
fn own_envelope(#[carrier] message: &broker::Envelope) -> usize {
    message.body.len()
}

#[o11y::task_traced]
fn beside_headers(message: broker::Envelope, #[carrier] headers: &HashMap<String, String>) -> usize {
    message.body.len() + headers.len()
}

fn main() {
    let message = broker::Envelope { headers: HashMap::new(), body: vec![1, 2] };
    assert_eq!(own_envelope(&message), 2);
    assert_eq!(beside_headers(message, &HashMap::new()), 2);
    assert_eq!(sync_task(Envelope::new("sync_task", 21)), 42);
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    assert_eq!(runtime.block_on(async_task(&Envelope::new("charge", 5))).unwrap(), 5);
    assert!(runtime.block_on(async_task(&Envelope::new("charge", 0))).is_err());
    let mut headers = HashMap::new();
    o11y::task::inject(&mut headers);
    assert_eq!(batch(&headers, "ab"), headers.len() + 2);
    assert_eq!(tree(BTreeMap::new(), 3), 3);
    assert_eq!(generic(Envelope::new("generic", 'x')), "'x'");
    let mut job = Envelope::new("mutable", Vec::new());
    mutable(&mut job);
    assert_eq!(job.payload, [1]);
    assert_eq!(Worker.run(Envelope::new("worker_run", "hi".to_owned())), "hi!");
    assert!(through_reexport(Envelope::new("reexported", ())));
}
