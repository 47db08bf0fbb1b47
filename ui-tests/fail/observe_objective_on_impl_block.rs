struct Repo;

#[o11y::observe(objective(success = 99.9))]
impl Repo {
    fn find(&self) {}
}

fn main() {}
