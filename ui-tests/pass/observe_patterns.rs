// Pattern and `mut` parameters: tuples, structs, references, wildcards;
// `args` records the bindings they introduce.
#![deny(warnings)]

use o11y::observe;

struct Point {
    x: i32,
    y: i32,
}

#[observe(args)]
fn sum((a, b): (u8, u8)) -> u8 {
    a + b
}

#[observe(args(x))]
fn manhattan(Point { x, y }: Point) -> i32 {
    x.abs() + y.abs()
}

#[observe]
fn count_down(mut n: u32) -> u32 {
    let mut steps = 0;
    while n > 0 {
        n -= 1;
        steps += 1;
    }
    steps
}

#[observe(args, skip(_unused))]
fn ignore(_: u8, _unused: u8, &value: &u8) -> u8 {
    value
}

#[observe(args)]
async fn swap(mut pair: (u8, u8), [first, second]: [u8; 2]) -> (u8, u8) {
    pair = (pair.1, pair.0);
    (pair.0 + first, pair.1 + second)
}

fn main() {
    assert_eq!(sum((1, 2)), 3);
    assert_eq!(manhattan(Point { x: -1, y: 2 }), 3);
    assert_eq!(count_down(3), 3);
    assert_eq!(ignore(1, 2, &3), 3);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(runtime.block_on(swap((1, 2), [10, 20])), (12, 21));
}
