// Early `return` and `?` in sync and async bodies, `return` inside nested
// closures and async blocks (which belongs to them, not to the function),
// loops with `break` values, and a body that diverges.
#![deny(warnings)]

use o11y::observe;

#[observe]
fn first_even(items: &[u32]) -> Option<u32> {
    for &item in items {
        if item % 2 == 0 {
            return Some(item);
        }
    }
    None
}

#[observe(err)]
fn parse_sum(a: &str, b: &str) -> Result<i32, std::num::ParseIntError> {
    let a: i32 = a.parse()?;
    if a == 0 {
        return Ok(0);
    }
    let b: i32 = b.parse()?;
    Ok(a + b)
}

#[observe]
fn closure_return(items: &[i32]) -> Vec<i32> {
    items
        .iter()
        .map(|&x| {
            if x < 0 {
                return 0;
            }
            x
        })
        .collect()
}

#[observe]
fn loop_value() -> u32 {
    let mut n = 0;
    loop {
        n += 1;
        if n == 5 {
            break n * 2;
        }
    }
}

#[observe(err)]
async fn fetch(id: u32) -> Result<u32, Box<dyn std::error::Error + Send + Sync>> {
    if id == 0 {
        return Err("zero".into());
    }
    let inner = async {
        return 1_u32;
    };
    let parsed: u32 = "41".parse()?;
    Ok(parsed + inner.await)
}

#[observe]
fn option_chain(text: &str) -> Option<char> {
    let first = text.lines().next()?;
    first.chars().next()
}

#[observe]
fn never_returns() -> ! {
    std::process::exit(0)
}

// Never completes: defined to show it compiles.
#[allow(dead_code)]
#[observe]
async fn serve_forever() -> ! {
    loop {
        tokio::task::yield_now().await;
    }
}

fn main() {
    assert_eq!(first_even(&[1, 3, 4]), Some(4));
    assert_eq!(first_even(&[1]), None);
    assert_eq!(parse_sum("1", "2"), Ok(3));
    assert_eq!(parse_sum("0", "x"), Ok(0));
    assert!(parse_sum("1", "x").is_err());
    assert_eq!(closure_return(&[-1, 2]), vec![0, 2]);
    assert_eq!(loop_value(), 10);
    assert_eq!(option_chain("ab\ncd"), Some('a'));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(runtime.block_on(fetch(1)).unwrap(), 42);
    assert!(runtime.block_on(fetch(0)).is_err());
    never_returns();
}
