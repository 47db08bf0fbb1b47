#[o11y::observe(err(levle = "warn"))]
fn handler() -> Result<(), String> {
    Ok(())
}

fn main() {}
