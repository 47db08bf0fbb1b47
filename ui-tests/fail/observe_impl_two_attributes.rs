struct Repo;

#[o11y::observe]
impl Repo {
    #[observe(level = "debug")]
    #[observe(err)]
    fn get(&self) -> Result<u32, String> {
        Ok(1)
    }
}

fn main() {}
