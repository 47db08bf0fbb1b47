// `crate = path`: reach o11y through a re-export, for crates that depend on
// it under another name or wrap it.
#![deny(warnings)]

mod my {
    pub use o11y;
}

#[my::o11y::observe(crate = my::o11y)]
fn through_reexport(x: u8) -> u8 {
    x + 1
}

mod nested {
    #[crate::my::o11y::observe(crate = crate::my::o11y, err, concurrency)]
    pub async fn deeper() -> Result<u8, String> {
        Ok(2)
    }

    pub struct Store;

    #[crate::my::o11y::observe(crate = crate::my::o11y)]
    impl Store {
        pub fn get(&self) -> u8 {
            3
        }

        // A method's own attribute, under the same path, is the block's
        // argument for it (not a second instrumentation).
        #[crate::my::o11y::observe(skip)]
        pub fn hot(&self) -> u8 {
            4
        }

        #[crate::my::o11y::observe(level = "debug")]
        pub fn quiet(&self) -> u8 {
            5
        }
    }
}

#[my::o11y::metric(counter, help = "Calls through the re-export", crate = my::o11y)]
static REEXPORTED_CALLS: my::o11y::Counter;

fn main() {
    assert_eq!(through_reexport(1), 2);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(runtime.block_on(nested::deeper()), Ok(2));
    assert_eq!(nested::Store.get(), 3);
    assert_eq!(nested::Store.hot(), 4);
    assert_eq!(nested::Store.quiet(), 5);
    REEXPORTED_CALLS.inc();
    assert!(
        o11y::metrics::catalog()
            .iter()
            .any(|m| m.name == "reexported_calls_total")
    );
}
