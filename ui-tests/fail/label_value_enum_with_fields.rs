#[derive(o11y::LabelValue)]
enum Method {
    Card,
    Other(String),
}

fn main() {}
