struct Repo;

#[o11y::observe(name = "repo")]
impl Repo {
    fn get(&self) -> u32 {
        1
    }
}

fn main() {}
