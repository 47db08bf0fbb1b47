// Gauges, with and without labels and unit.
#![deny(warnings)]

use o11y::{Gauge, metric};

#[metric(gauge, help = "Jobs waiting in the queue")]
static QUEUE_DEPTH: Gauge;

#[metric(gauge, help = "Memory in use", unit = "bytes", labels(pool))]
static MEMORY_BYTES: Gauge;

fn main() {
    QUEUE_DEPTH.set(3.0);
    QUEUE_DEPTH.inc();
    QUEUE_DEPTH.dec();
    QUEUE_DEPTH.add(2.0);
    assert_eq!(QUEUE_DEPTH.get(), 5.0);
    let heap = MEMORY_BYTES.labels("heap");
    heap.set(1024.0);
    heap.add(1.0);
    assert_eq!(MEMORY_BYTES.labels("heap").get(), 1025.0);
    let catalog = o11y::metrics::catalog();
    let memory = catalog.iter().find(|m| m.name == "memory_bytes").unwrap();
    assert_eq!(memory.labels, &["pool"]);
    assert_eq!(memory.unit, Some("bytes"));
    assert!(catalog.iter().any(|m| m.name == "queue_depth"));
}
