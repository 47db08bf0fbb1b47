// `fields(x)` alone records the parameter `x`: a name that is no parameter
// (a typo, a local, a value) is an error that says how to record a value.
#[o11y::observe(fields(item))]
fn find(item_id: u64) -> u64 {
    item_id
}

#[o11y::observe(fields(tenant))]
fn list(page: u32) -> u32 {
    page
}

#[o11y::observe(fields(ordr_id))]
fn cancel(order_id: u64) -> u64 {
    order_id
}

fn main() {}
