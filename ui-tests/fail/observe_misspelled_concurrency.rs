#[o11y::observe(err, concurency)]
fn handler() -> Result<(), String> {
    Ok(())
}

fn main() {}
