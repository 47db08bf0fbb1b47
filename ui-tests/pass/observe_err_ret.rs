// `err` logs an `Err`'s Display at `error`, `err(level = "warn")` at that
// level, `ret` the returned value's Debug; any `Result` (aliases included)
// is detected. With o11y on, the outcome is in `function_calls_total`.
#![deny(warnings)]

use o11y::observe;

#[derive(Debug)]
struct PaymentError;

impl std::fmt::Display for PaymentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("card declined")
    }
}

#[observe(err)]
fn charge(amount: u32) -> Result<u32, PaymentError> {
    if amount > 100 {
        Err(PaymentError)
    } else {
        Ok(amount)
    }
}

#[observe(err(level = "warn"))]
fn read_config() -> std::io::Result<String> {
    Err(std::io::Error::other("no such file"))
}

#[observe(ret)]
fn answer() -> u32 {
    42
}

#[observe(ret(level = "debug"), err(level = "info"))]
async fn fetch(id: u32) -> Result<Vec<u32>, String> {
    if id == 0 {
        Err("id 0".to_owned())
    } else {
        Ok(vec![id])
    }
}

fn series(exposition: &str, function: &str, result: &str) -> u64 {
    exposition
        .lines()
        .filter(|line| line.starts_with("function_calls_total{"))
        .filter(|line| line.contains(&format!("function=\"{function}\"")))
        .filter(|line| line.contains(&format!("result=\"{result}\"")))
        .map(|line| line.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum()
}

fn main() {
    let config = o11y::Config::builder()
        .env_vars(Vec::<(String, String)>::new())
        .no_config_file()
        .log_file_enabled(false)
        .build()
        .unwrap();
    let _guard = o11y::init_with(config).unwrap();

    assert_eq!(charge(10).unwrap(), 10);
    assert!(charge(1000).is_err());
    assert!(read_config().is_err());
    assert_eq!(answer(), 42);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(runtime.block_on(fetch(3)).unwrap(), vec![3]);
    assert!(runtime.block_on(fetch(0)).is_err());

    let exposition = o11y::metrics::render(o11y::metrics::Format::Prometheus);
    assert_eq!(series(&exposition, "charge", "ok"), 1, "{exposition}");
    assert_eq!(series(&exposition, "charge", "error"), 1, "{exposition}");
    assert_eq!(
        series(&exposition, "read_config", "error"),
        1,
        "{exposition}"
    );
    assert_eq!(series(&exposition, "answer", "ok"), 1, "{exposition}");
    assert_eq!(series(&exposition, "fetch", "ok"), 1, "{exposition}");
    assert_eq!(series(&exposition, "fetch", "error"), 1, "{exposition}");
}
