// Labels from `&str`, `String`, `&String`, integers, bool and an enum that
// derives `LabelValue` (snake case, or `#[label = "..."]`); `labels(..)`
// takes one argument per label name, in order.
#![deny(warnings)]

use o11y::{Counter, LabelValue, metric};

#[derive(LabelValue, Clone, Copy)]
enum Method {
    Card,
    BankTransfer,
    #[label = "apple-pay"]
    ApplePay,
}

#[derive(o11y::LabelValue)]
enum Outcome {
    Ok,
    Declined,
}

#[metric(counter, help = "Payments by outcome", labels(status, method))]
static PAYMENTS: Counter;

#[metric(counter, help = "HTTP responses", labels(code, cached, region, route))]
static RESPONSES_TOTAL: Counter;

#[metric(counter, help = "Outcomes", labels(outcome))]
static OUTCOMES: Counter;

// A label named like a Rust keyword (`type` is common), written plain or raw.
#[metric(counter, help = "Errors by type", labels(type, r#match))]
static ERRORS: Counter;

fn main() {
    PAYMENTS.labels("ok", Method::Card).inc();
    PAYMENTS.labels("ok", Method::BankTransfer).inc();
    PAYMENTS
        .labels(String::from("declined"), Method::ApplePay)
        .inc_by(2);
    let region = String::from("eu");
    RESPONSES_TOTAL.labels(200_u16, true, &region, "/pay").inc();
    RESPONSES_TOTAL
        .labels(404_i32, false, region.clone(), String::from("/x"))
        .inc();
    RESPONSES_TOTAL
        .labels(500_usize, false, region.as_str(), &"/y")
        .inc();
    OUTCOMES.labels(Outcome::Ok).inc();
    OUTCOMES.labels(&Outcome::Declined).inc();
    assert_eq!(PAYMENTS.labels("declined", Method::ApplePay).get(), 2);
    assert_eq!(PAYMENTS.series_count(), 3);
    assert_eq!(RESPONSES_TOTAL.series_count(), 3);

    assert_eq!(Method::BankTransfer.label_value(), "bank_transfer");
    assert_eq!(Method::ApplePay.label_value(), "apple-pay");
    let exposition = o11y::metrics::render(o11y::metrics::Format::Prometheus);
    assert!(
        exposition.contains(r#"payments_total{status="ok",method="bank_transfer"} 1"#),
        "{exposition}"
    );
    assert!(
        exposition.contains(r#"payments_total{status="declined",method="apple-pay"} 2"#),
        "{exposition}"
    );
    assert!(
        exposition
            .contains(r#"responses_total{code="200",cached="true",region="eu",route="/pay"} 1"#),
        "{exposition}"
    );
    ERRORS.labels("timeout", "exact").inc();
    let exposition = o11y::metrics::render(o11y::metrics::Format::Prometheus);
    assert!(
        exposition.contains(r#"errors_total{type="timeout",match="exact"} 1"#),
        "{exposition}"
    );
}
