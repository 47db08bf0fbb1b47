// `fields(...)`: a plain value, `%` (Display), `?` (Debug), dotted names,
// keyword names, expressions over the arguments, a trailing comma.
#![deny(warnings)]

use o11y::observe;

#[derive(Debug)]
struct Order {
    id: u64,
    customer: String,
}

#[observe(fields(
    order.id = order.id,
    customer = %order.customer,
    order = ?order,
    r#type = "retail",
    items.count = items.len(),
))]
fn place(order: &Order, items: &[u32]) -> usize {
    items.len() + order.id as usize
}

#[observe(fields(tier = "gold"))]
async fn tiered() -> &'static str {
    "gold"
}

fn main() {
    let order = Order {
        id: 7,
        customer: "ada".to_owned(),
    };
    assert_eq!(place(&order, &[1, 2]), 9);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(runtime.block_on(tiered()), "gold");
}
