//! Two observed functions whose calls would share one series of
//! `function_calls_total` (the same `function` and `module` labels) make
//! `init()` fail, naming both, as two metrics declared with one name do.
//! A binary of its own: the two functions below make every `init()` of the
//! binary fail.
#![cfg(not(feature = "off"))]

struct Cached<T>(T);

trait Find {
    fn find(&self) -> u64;
}

// Both methods are `Cached::find` (a type is named without its generic
// arguments, as on an observed impl block) in this module.
impl Find for Cached<u8> {
    #[o11y::observe]
    fn find(&self) -> u64 {
        u64::from(self.0)
    }
}

impl Find for Cached<u16> {
    #[o11y::observe]
    fn find(&self) -> u64 {
        u64::from(self.0)
    }
}

#[test]
fn two_functions_sharing_a_series_are_refused_at_init() {
    let error = o11y::init().expect_err("init must refuse the two Cached::find");
    let message = error.to_string();
    assert!(
        message.starts_with(
            "two observed functions are both named `Cached::find` in module `observe_shared_series`"
        ),
        "{message}"
    );
    let file = file!();
    for line in [17, 24] {
        assert!(message.contains(&format!("{file}:{line}")), "{message}");
    }
    assert!(message.contains("rename one"), "{message}");
    // Nothing was called: the check reads the link-time list of sites.
    assert_eq!(Cached(3_u8).find() + Cached(4_u16).find(), 7);
}
