// `?` on an error the return type cannot hold: reported at the `?`.
#[derive(Debug)]
struct AppError;

#[o11y::observe(err)]
fn parse(text: &str) -> Result<u32, AppError> {
    let value: u32 = text.parse()?;
    Ok(value)
}

fn main() {}
