#[derive(o11y::LabelValue)]
enum Method {
    #[label("card")]
    Card,
}

fn main() {}
