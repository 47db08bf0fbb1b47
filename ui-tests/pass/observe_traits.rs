// Trait impl methods, including native `async fn` in traits, default
// methods, and a generic trait.
#![deny(warnings)]

use o11y::observe;

trait Repo {
    fn get(&self, id: u32) -> Option<u32>;
    async fn load(&self, id: u32) -> Result<u32, String>;
    fn describe(&self) -> String {
        "repo".to_owned()
    }
}

trait Convert<T> {
    fn convert(&self, value: T) -> String;
}

struct Memory;

impl Repo for Memory {
    #[observe]
    fn get(&self, id: u32) -> Option<u32> {
        (id > 0).then_some(id)
    }

    #[observe(err)]
    async fn load(&self, id: u32) -> Result<u32, String> {
        self.get(id).ok_or_else(|| "missing".to_owned())
    }

    #[observe(name = "Memory::describe")]
    fn describe(&self) -> String {
        "memory".to_owned()
    }
}

impl<T: std::fmt::Debug> Convert<T> for Memory {
    #[observe]
    fn convert(&self, value: T) -> String {
        format!("{value:?}")
    }
}

fn main() {
    assert_eq!(Memory.get(1), Some(1));
    assert_eq!(Memory.describe(), "memory");
    assert_eq!(Memory.convert(5_u8), "5");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(runtime.block_on(Memory.load(2)), Ok(2));
    assert!(runtime.block_on(Memory.load(0)).is_err());
}
