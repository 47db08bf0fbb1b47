#[o11y::task_traced]
struct ProcessOrder {
    order_id: u64,
}

fn main() {}
