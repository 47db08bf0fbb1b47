#[o11y::observe(err, err(level = "warn"))]
fn handler() -> Result<(), String> {
    Ok(())
}

fn main() {}
