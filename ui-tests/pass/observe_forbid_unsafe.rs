// A crate that forbids unsafe code can use the attributes: what they
// generate (link-time registration included) is accepted under
// `forbid(unsafe_code)`.
#![forbid(unsafe_code)]
#![deny(warnings)]

#[o11y::metric(counter, help = "Lookups")]
static LOOKUPS: o11y::Counter;

struct Repo;

impl Repo {
    #[o11y::observe]
    fn find(&self, id: u64) -> u64 {
        LOOKUPS.inc();
        id
    }
}

#[o11y::observe]
async fn fetch(id: u64) -> Result<u64, String> {
    Ok(id)
}

fn main() {
    assert_eq!(Repo.find(2), 2);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(runtime.block_on(fetch(3)), Ok(3));
}
