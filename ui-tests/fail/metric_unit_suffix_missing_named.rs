#[o11y::metric(counter, help = "Bytes sent", unit = "bytes", name = "sent_total")]
static SENT: o11y::Counter;

fn main() {}
