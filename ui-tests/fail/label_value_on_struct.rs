#[derive(o11y::LabelValue)]
struct Method {
    name: String,
}

fn main() {}
