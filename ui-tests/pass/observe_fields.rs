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

// The shorthand: `fields(id)` is `fields(id = id)` for a parameter, recorded
// as `args(id)` would (numbers as numbers, text with Display, the rest Debug).
#[observe(fields(id, name, tags, kind = "lookup"))]
fn lookup(id: u64, name: &str, tags: Vec<&str>) -> usize {
    id as usize + name.len() + tags.len()
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
    assert_eq!(lookup(1, "ab", vec!["x"]), 4);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(runtime.block_on(tiered()), "gold");
}
