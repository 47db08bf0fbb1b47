// `name = "..."` overrides the static's name, `series_cap` bounds the label
// sets, `exemplars = false` keeps the plain calls from linking a span,
// `crate = path` reaches o11y through a re-export, trailing commas.
#![deny(warnings)]

use o11y::metrics::Metric;

mod reexport {
    pub use o11y as obs;
}

#[o11y::metric(
    counter,
    help = "Logins",
    name = "auth_logins_total",
    labels(provider),
    series_cap = 2
)]
static LOGINS: o11y::Counter;

#[o11y::metric(gauge, help = "Open connections", name = "db_connections")]
static CONNECTIONS: o11y::Gauge;

#[reexport::obs::metric(histogram, help = "Payload size", unit = "bytes", crate = reexport::obs, buckets = [64, 1024])]
static PAYLOAD_BYTES: reexport::obs::Histogram;

#[o11y::metric(counter, help = "Cache hits", labels(cache), exemplars = false)]
static CACHE_HITS: o11y::Counter;

#[o11y::metric(histogram, help = "Render time", unit = "seconds", exemplars = true)]
static RENDER_SECONDS: o11y::Histogram;

fn main() {
    for provider in ["google", "github", "gitlab", "okta"] {
        LOGINS.labels(provider).inc();
    }
    assert_eq!(
        LOGINS.series_count(),
        2,
        "past the cap, new label sets share the overflow series"
    );
    assert_eq!(LOGINS.labels("okta").get(), 2);
    CONNECTIONS.set(4.0);
    PAYLOAD_BYTES.observe(100.0);
    CACHE_HITS.labels("pages").inc();
    assert!(!CACHE_HITS.desc().exemplars);
    RENDER_SECONDS.observe(0.01);
    assert!(RENDER_SECONDS.desc().exemplars, "the default");
    let catalog = o11y::metrics::catalog();
    for name in ["auth_logins_total", "db_connections", "payload_bytes"] {
        assert!(
            catalog.iter().any(|m| m.name == name),
            "{name} not registered"
        );
    }
    assert!(!catalog.iter().any(|m| m.name == "logins_total"));
}
