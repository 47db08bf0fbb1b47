// A counter without labels: the name comes from the static (snake case,
// `_total` added), registered at link time; visibility and doc comments
// are kept.
#![deny(warnings)]

use o11y::{Counter, metric};

#[metric(counter, help = "Payments accepted")]
static PAYMENTS: Counter;

/// Already ends in `_total`: kept as is.
#[metric(counter, help = "Retries of failed calls")]
pub static RETRIES_TOTAL: o11y::Counter;

pub mod nested {
    #[o11y::metric(counter, help = "Bytes written to disk", unit = "bytes")]
    pub(crate) static WRITTEN_BYTES: o11y::Counter;
}

fn main() {
    PAYMENTS.inc();
    PAYMENTS.inc_by(2);
    assert_eq!(PAYMENTS.get(), 3);
    RETRIES_TOTAL.inc();
    nested::WRITTEN_BYTES.inc_by(512);
    let catalog = o11y::metrics::catalog();
    let entry = |name: &str| {
        catalog
            .iter()
            .find(|m| m.name == name)
            .unwrap_or_else(|| panic!("{name} not registered"))
    };
    assert_eq!(entry("payments_total").help, "Payments accepted");
    assert_eq!(
        entry("payments_total").kind,
        o11y::metrics::MetricKind::Counter
    );
    entry("retries_total");
    assert_eq!(entry("written_bytes_total").unit, Some("bytes"));
}
