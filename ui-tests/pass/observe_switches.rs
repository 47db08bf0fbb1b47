// `concurrency` adds `function_calls_concurrent`; `metrics = false` records
// no metric (the span stays); `span = false` records metrics only.
#![deny(warnings)]

use o11y::observe;

#[observe(concurrency)]
fn busy() -> u8 {
    1
}

#[observe(metrics = false)]
fn traced_only() -> u8 {
    2
}

#[observe(span = false)]
fn counted_only() -> u8 {
    3
}

#[observe(span = false, concurrency, err)]
async fn counted_async() -> Result<u8, String> {
    Ok(4)
}

#[observe(metrics = true, span = true)]
fn explicit_defaults() -> u8 {
    5
}

fn main() {
    let config = o11y::Config::builder()
        .env_vars(Vec::<(String, String)>::new())
        .no_config_file()
        .log_file_enabled(false)
        .build()
        .unwrap();
    let _guard = o11y::init_with(config).unwrap();

    assert_eq!(
        busy() + traced_only() + counted_only() + explicit_defaults(),
        11
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(runtime.block_on(counted_async()), Ok(4));

    let exposition = o11y::metrics::render(o11y::metrics::Format::Prometheus);
    let has = |metric: &str, function: &str| {
        exposition.lines().any(|line| {
            line.starts_with(metric) && line.contains(&format!("function=\"{function}\""))
        })
    };
    assert!(has("function_calls_concurrent{", "busy"), "{exposition}");
    assert!(
        !has("function_calls_concurrent{", "counted_only"),
        "{exposition}"
    );
    assert!(has("function_calls_total{", "counted_only"), "{exposition}");
    assert!(
        has("function_calls_total{", "counted_async"),
        "{exposition}"
    );
    assert!(!has("function_calls_total{", "traced_only"), "{exposition}");
    assert!(
        has("function_calls_total{", "explicit_defaults"),
        "{exposition}"
    );
}
