#[o11y::task_traced]
fn process_order(order_id: u64) -> u64 {
    order_id
}

fn main() {}
