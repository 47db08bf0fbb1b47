// A mistake in an observed body is reported at the user's line, as without
// the attribute.
#[o11y::observe(err, fields(x = 1))]
fn total(items: &[u32]) -> Result<u32, String> {
    let sum: u32 = items.iter().sum();
    let label: String = sum;
    Ok(label.len() as u32)
}

fn main() {}
