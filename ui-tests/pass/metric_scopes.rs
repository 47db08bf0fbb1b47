// Metrics declared where statics can be: inside a function body, in a
// nested module (used from outside through its path and a `use`), with
// doc comments and other attributes kept. Every pass case denies warnings:
// the expansion must not add any (an unused `use o11y::Counter;`, say).
#![deny(warnings)]

use o11y::{Counter, Gauge, metric};

pub mod billing {
    /// Invoices sent, by channel.
    #[o11y::metric(counter, help = "Invoices sent", labels(channel))]
    #[allow(dead_code)]
    pub static INVOICES_SENT: o11y::Counter;
}

use billing::INVOICES_SENT;

#[metric(gauge, help = "Workers busy")]
static WORKERS_BUSY: Gauge;

fn handle() -> u64 {
    #[metric(counter, help = "Requests handled in a function scope", labels(route))]
    static HANDLED: Counter;
    HANDLED.labels("/").inc();
    HANDLED.labels("/").get()
}

fn main() {
    INVOICES_SENT.labels("email").inc();
    billing::INVOICES_SENT.labels("email").inc();
    WORKERS_BUSY.set(2.0);
    assert_eq!(handle(), 1);
    assert_eq!(handle(), 2);
    assert_eq!(INVOICES_SENT.labels("email").get(), 2);
    let catalog = o11y::metrics::catalog();
    for name in ["invoices_sent_total", "workers_busy", "handled_total"] {
        assert!(
            catalog.iter().any(|m| m.name == name),
            "{name} not registered"
        );
    }
}
