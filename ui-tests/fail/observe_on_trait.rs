// A trait declaration has no bodies to observe: observe the impls.
#[o11y::observe]
trait Repo {
    fn get(&self) -> u32;
}

fn main() {}
