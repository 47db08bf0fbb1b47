#[derive(o11y::LabelValue)]
enum Method {
    CreditCard,
    #[label = "credit_card"]
    Card,
}

fn main() {}
