// With the facade feature `off`, `#[observe]` checks its arguments and
// returns the item as written: even with o11y initialised, calls record
// nothing (no `function_calls_*` series) and behave as the bare function.
// The one addition is a `let _ = (&param, ..);` for the parameters that
// `args` / `fields` would have read, so that a parameter used only there is
// not reported unused (denied below).
#![deny(warnings)]

use o11y::observe;

#[observe(args(user, attempt), fields(customer = %customer, tenant.id = tenant.len()))]
fn audit(user: &str, attempt: u32, customer: &str, tenant: &str) -> bool {
    true
}

struct Session;

#[observe]
impl Session {
    #[observe(args, skip(token))]
    fn open(&self, user: &str, token: &str) -> bool {
        token.is_empty()
    }
}

#[observe(name = "checkout", level = "debug", fields(order.id = id, tier = %"gold"), err, ret, concurrency)]
fn checkout(id: u64) -> Result<u64, String> {
    if id == 0 {
        Err("no order".to_owned())
    } else {
        Ok(id)
    }
}

#[observe(args, skip(password), err(level = "warn"))]
async fn login(user: &str, password: &str) -> Result<(), String> {
    if user == password {
        Err("weak".to_owned())
    } else {
        Ok(())
    }
}

#[observe(span = false)]
fn counted_only() -> u8 {
    1
}

struct Repo;

#[observe(err)]
impl Repo {
    fn get(&self, id: u32) -> Result<u32, String> {
        Ok(id)
    }

    #[observe(skip)]
    fn len(&self) -> usize {
        0
    }

    #[observe(level = "debug", args(id))]
    fn find(&self, id: u32) -> Option<u32> {
        Some(id)
    }
}

fn main() {
    let config = o11y::Config::builder()
        .env_vars(Vec::<(String, String)>::new())
        .no_config_file()
        .log_file_enabled(false)
        .build()
        .unwrap();
    let _guard = o11y::init_with(config).unwrap();

    assert!(audit("ada", 1, "acme", "eu"));
    assert!(Session.open("ada", ""));
    assert_eq!(checkout(7), Ok(7));
    assert!(checkout(0).is_err());
    assert_eq!(counted_only(), 1);
    assert_eq!(Repo.get(1), Ok(1));
    assert_eq!(Repo.len(), 0);
    assert_eq!(Repo.find(2), Some(2));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert!(runtime.block_on(login("ada", "ada")).is_err());

    let exposition = o11y::metrics::render(o11y::metrics::Format::Prometheus);
    assert!(
        !exposition.contains("function=\""),
        "an observed call was recorded:\n{exposition}"
    );
}
