struct Repo;

#[o11y::observe(fields(table = "orders"))]
impl Repo {
    #[observe(nmae = "get")]
    fn get(&self) -> u32 {
        1
    }
}

fn main() {}
