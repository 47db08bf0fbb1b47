#[o11y::observe(err(level = "warn", display))]
fn handler() -> Result<(), String> {
    Ok(())
}

fn main() {}
