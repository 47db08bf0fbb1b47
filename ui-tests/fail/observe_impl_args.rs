struct Repo;

#[o11y::observe(args)]
impl Repo {
    fn get(&self, id: u32) -> u32 {
        id
    }
}

fn main() {}
