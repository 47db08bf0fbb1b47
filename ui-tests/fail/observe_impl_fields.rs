struct Repo;

#[o11y::observe(fields(table = "orders"))]
impl Repo {
    fn get(&self) -> u32 {
        1
    }
}

fn main() {}
