#[derive(o11y::LabelValue)]
enum Never {}

fn main() {}
