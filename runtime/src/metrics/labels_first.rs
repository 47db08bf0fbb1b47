//! The compile error of a labelled metric used as if it had no labels
//! (`PAYMENTS.inc()`): it says to call `.labels(..)` first, where rustc
//! alone would say that no method `inc` exists.
//!
//! The labelled types (and each labelled `#[metric]` static's type) have
//! the methods of a series, `inc`, `observe`, `set`…, each bound by
//! [`RecordsWithoutLabels`], which no type implements: a call does not
//! compile, and the trait's `#[diagnostic::on_unimplemented]` is the error.
//! The bound names a lifetime of the method so that rustc checks it at the
//! call, not at the definition (where a bound on a concrete type that does
//! not hold is an error of its own). The error's caret is on the method
//! called; the message does not repeat its name, since rustc would print a
//! marker type naming it with its whole path.
//!
//! Not an API: `#[metric]`'s expansion names the trait.

use super::cell::HistogramSnapshot;
use super::types::{CounterVec, GaugeVec, HistogramTimer, HistogramVec};

/// Implemented by no type, so that a method of a series called on a
/// labelled metric is a compile error that says what to do. Sealed: its
/// method takes a type no other crate can name.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has labels: pick a series with `.labels(..)` first, then call this method on it",
    label = "a method of one series of `{Self}`, which `.labels(..)` returns",
    note = "`.labels(..)` takes one value per label, in the declared order, and returns the series' handle; keep the handle: recording through it again is one atomic operation, no lookup"
)]
pub trait RecordsWithoutLabels<'a> {
    #[doc(hidden)]
    fn sealed(_: sealed::Token);
}

mod sealed {
    /// Unnameable outside this crate: no other crate can implement the trait.
    #[derive(Debug)]
    pub struct Token;
}

/// The methods of a series on a labelled type, none callable.
macro_rules! series_methods {
    ($vec:ident { $($method:ident($($param:ident: $ty:ty),*) $(-> $ret:ty)?;)* }) => {
        impl<const N: usize> $vec<N> {
            $(
                #[doc(hidden)]
                pub fn $method<'a>(&'a self, $($param: $ty),*) $(-> $ret)?
                where
                    Self: RecordsWithoutLabels<'a>,
                {
                    $(let _ = $param;)*
                    unreachable!("RecordsWithoutLabels has no implementation")
                }
            )*
        }
    };
}

series_methods!(CounterVec {
    inc();
    inc_by(n: u64);
    inc_by_with_exemplar(n: u64);
    get() -> u64;
});

series_methods!(GaugeVec {
    set(value: f64);
    add(delta: f64);
    inc();
    dec();
    get() -> f64;
});

series_methods!(HistogramVec {
    observe(value: f64);
    observe_with_exemplar(value: f64);
    start_timer() -> HistogramTimer<'a>;
    snapshot() -> HistogramSnapshot;
});
