// `#[async_trait]` and `#[observe]` in either order. Outer attributes expand
// first: when async_trait is outside, observe gets each body as
// `Box::pin(async move { .. })` and instruments inside the box; when
// observe is outside (on the impl block), it sees the `async fn`s.
#![deny(warnings)]

use async_trait::async_trait;
use o11y::observe;

#[async_trait]
trait Store: Send + Sync {
    async fn get(&self, key: &str) -> Result<u32, String>;
    async fn put(&mut self, key: &str, value: u32);
}

// async_trait first, `#[observe]` on the methods.
struct PerMethod(Vec<(String, u32)>);

#[async_trait]
impl Store for PerMethod {
    #[observe(err, args(key))]
    async fn get(&self, key: &str) -> Result<u32, String> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| *v)
            .ok_or_else(|| format!("no {key}"))
    }

    #[observe]
    async fn put(&mut self, key: &str, value: u32) {
        if key.is_empty() {
            return;
        }
        self.0.push((key.to_owned(), value));
    }
}

// observe first, on the impl block.
struct ObserveOutside(Vec<(String, u32)>);

#[observe(err)]
#[async_trait]
impl Store for ObserveOutside {
    async fn get(&self, key: &str) -> Result<u32, String> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| *v)
            .ok_or_else(|| format!("no {key}"))
    }

    #[observe(args(key, value))]
    async fn put(&mut self, key: &str, value: u32) {
        self.0.push((key.to_owned(), value));
    }
}

// async_trait first, then observe on the impl block.
struct ObserveInside(Vec<(String, u32)>);

#[async_trait]
#[observe(level = "debug")]
impl Store for ObserveInside {
    async fn get(&self, key: &str) -> Result<u32, String> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| *v)
            .ok_or_else(|| format!("no {key}"))
    }

    #[observe(skip)]
    async fn put(&mut self, key: &str, value: u32) {
        self.0.push((key.to_owned(), value));
    }
}

async fn exercise(store: &mut dyn Store) {
    store.put("x", 1).await;
    store.put("", 2).await;
    assert_eq!(store.get("x").await, Ok(1));
    assert!(store.get("y").await.is_err());
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        exercise(&mut PerMethod(Vec::new())).await;
        exercise(&mut ObserveOutside(Vec::new())).await;
        exercise(&mut ObserveInside(Vec::new())).await;
    });
}
