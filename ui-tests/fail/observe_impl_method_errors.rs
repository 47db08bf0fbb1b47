// In an observed impl block, each method's own arguments are checked, and
// every error is reported, not only the first.
struct Repo;

#[o11y::observe(err)]
impl Repo {
    #[observe(nmae = "get")]
    fn get(&self) -> Result<u32, String> {
        Ok(1)
    }

    #[observe(args(idd))]
    fn find(&self, id: u32) -> Result<u32, String> {
        Ok(id)
    }

    const fn limit() -> u32 {
        10
    }
}

fn main() {}
