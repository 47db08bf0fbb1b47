// `err` logs the error with Display: an error type without it is reported
// at `err`.
#[derive(Debug)]
struct AppError;

#[o11y::observe(err)]
fn handler() -> Result<(), AppError> {
    Err(AppError)
}

fn main() {}
