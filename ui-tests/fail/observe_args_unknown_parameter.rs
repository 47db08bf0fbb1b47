// Every unknown name is reported, each at itself.
#[o11y::observe(args(user_id, tenant))]
fn lookup(userid: u64) -> u64 {
    userid
}

fn main() {}
