// Other places a function lives: `extern "C" fn` definitions (a Rust body
// with a C ABI), visibility modifiers, nested modules, functions inside
// functions, `Self`-returning constructors in traits, and `o11y::tracing`
// events in an observed body.
#![deny(warnings)]

use o11y::observe;

#[observe]
pub extern "C" fn c_callback(value: i32) -> i32 {
    value * 2
}

mod inner {
    #[o11y::observe(level = "debug")]
    pub(crate) fn visible_in_crate() -> &'static str {
        "crate"
    }

    pub mod deeper {
        #[o11y::observe]
        pub(super) fn visible_in_parent() -> u8 {
            1
        }

        pub fn call() -> u8 {
            visible_in_parent()
        }
    }
}

trait Build: Sized {
    fn build(size: usize) -> Self;
}

impl Build for Vec<u8> {
    #[observe(args)]
    fn build(size: usize) -> Self {
        vec![0; size]
    }
}

#[observe(fields(step = "outer"))]
fn outer() -> u32 {
    #[observe(fields(step = "inner"))]
    fn inner(x: u32) -> u32 {
        o11y::tracing::info!(x, "inside the inner function");
        x + 1
    }
    o11y::tracing::debug!("calling inner");
    inner(1) + inner(2)
}

fn main() {
    assert_eq!(c_callback(21), 42);
    assert_eq!(inner::visible_in_crate(), "crate");
    assert_eq!(inner::deeper::call(), 1);
    assert_eq!(<Vec<u8> as Build>::build(3).len(), 3);
    assert_eq!(outer(), 5);
}
