// `?` on an error the return type cannot hold: reported in the body, as
// without the attribute.
#[derive(Debug)]
struct AppError;

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("app error")
    }
}

#[o11y::observe(err)]
fn parse(text: &str) -> Result<u32, AppError> {
    let value: u32 = text.parse()?;
    Ok(value)
}

#[o11y::observe]
async fn load(path: &str) -> Result<String, AppError> {
    let text = std::fs::read_to_string(path)?;
    Ok(text)
}

fn main() {}
