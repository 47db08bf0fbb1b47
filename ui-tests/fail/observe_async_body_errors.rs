// The same in an async fn: a wrong return value and `?` without From.
#[o11y::observe]
async fn count(text: &str) -> Result<usize, std::fmt::Error> {
    let number: i64 = text.parse()?;
    if number < 0 {
        return Ok("negative");
    }
    Ok(number as usize)
}

fn main() {}
