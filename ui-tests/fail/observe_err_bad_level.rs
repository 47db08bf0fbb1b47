#[o11y::observe(err(level = "fatal"))]
fn handler() -> Result<(), String> {
    Ok(())
}

fn main() {}
