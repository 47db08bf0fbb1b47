// Inherent methods with every receiver: `&self`, `&mut self`, `self`,
// `mut self`, `self: Pin<&mut Self>`, `self: Box<Self>`, and async ones.
#![deny(warnings)]

use std::pin::Pin;

use o11y::observe;

struct Cart {
    items: Vec<u32>,
}

impl Cart {
    #[observe]
    fn total(&self) -> u32 {
        self.items.iter().sum()
    }

    #[observe]
    fn add(&mut self, item: u32) {
        self.items.push(item);
    }

    #[observe]
    fn into_items(self) -> Vec<u32> {
        self.items
    }

    #[observe]
    fn sorted(mut self) -> Self {
        self.items.sort_unstable();
        self
    }

    #[observe]
    fn pinned(self: Pin<&mut Self>) -> usize {
        self.items.len()
    }

    #[observe]
    fn boxed(self: Box<Self>) -> usize {
        self.items.len()
    }

    #[observe]
    async fn total_async(&self) -> u32 {
        self.items.iter().sum()
    }

    #[observe]
    async fn add_async(&mut self, item: u32) -> &mut Self {
        self.items.push(item);
        self
    }

    // Borrows of `self` returned: shared, mutable, inside an Option, an
    // iterator, and from an async method.
    #[observe]
    fn first(&self) -> Option<&u32> {
        self.items.first()
    }

    #[observe]
    fn items_mut(&mut self) -> &mut Vec<u32> {
        &mut self.items
    }

    #[observe]
    fn last_mut(&mut self) -> Option<&mut u32> {
        self.items.last_mut()
    }

    #[observe]
    fn iter_mut(&mut self) -> impl Iterator<Item = &mut u32> {
        self.items.iter_mut()
    }

    #[observe]
    async fn items_mut_async(&mut self) -> &mut Vec<u32> {
        &mut self.items
    }

    #[observe]
    fn new() -> Self {
        Cart { items: Vec::new() }
    }
}

fn main() {
    let mut cart = Cart::new();
    cart.add(3);
    cart.add(1);
    assert_eq!(cart.total(), 4);
    assert_eq!(Pin::new(&mut cart).pinned(), 2);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        cart.add_async(5).await.add(6);
        assert_eq!(cart.total_async().await, 15);
    });
    cart.items_mut().push(0);
    *cart.last_mut().unwrap() += 7;
    cart.iter_mut().for_each(|item| *item += 1);
    assert_eq!(cart.first(), Some(&4));
    runtime
        .block_on(cart.items_mut_async())
        .retain(|item| *item != 8);
    let cart = cart.sorted();
    assert_eq!(Box::new(Cart { items: vec![1] }).boxed(), 1);
    assert_eq!(cart.into_items(), vec![2, 4, 6, 7]);
}
