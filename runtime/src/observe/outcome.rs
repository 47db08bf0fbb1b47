//! Is a returned value an error? Decided at compile time for the concrete
//! return type, without the macro knowing it: a `Result::Err` is an error
//! whose `error.type` is `E`'s type name; any other type is a success.
//!
//! The method is resolved by autoref: `(&Check(&value)).error_type()` finds
//! [`IsResult`] (implemented on `Check<Result<..>>`) before [`NotResult`]
//! (implemented on `&Check<T>` for every `T`), so type aliases
//! (`io::Result`, `anyhow::Result`) and generic `Result<T, E>` are seen.

/// Wraps a reference to the returned value for the lookup above.
pub struct Check<'a, T>(pub &'a T);

/// Picked for `Result<T, E>`.
pub trait IsResult {
    /// `Some(type name of E)` for `Err`, `None` for `Ok`.
    fn error_type(&self) -> Option<&'static str>;
}

impl<T, E> IsResult for Check<'_, Result<T, E>> {
    #[inline]
    fn error_type(&self) -> Option<&'static str> {
        self.0.as_ref().err().map(|_| std::any::type_name::<E>())
    }
}

/// Picked for every other type: never an error.
pub trait NotResult {
    /// Always `None`.
    #[inline]
    fn error_type(&self) -> Option<&'static str> {
        None
    }
}

impl<T> NotResult for &Check<'_, T> {}

/// The error that `#[observe(err)]` on a function logs: one trait for every
/// observed function, implemented for `Result<T, E>` with `E: Display`, so
/// that a function returning anything else gets an error that says so, at
/// `err`, instead of a type mismatch.
#[diagnostic::on_unimplemented(
    message = "`#[observe(err)]` logs the error of a returned `Result`, with `Display`: the function returns `{Self}`",
    label = "`err` needs a `Result<_, E>` return type with `E: Display`",
    note = "an `Err` is detected and counted without `err`: it only adds the log line"
)]
pub trait ObservedResult {
    /// The error of an `Err`, `None` for `Ok`.
    fn logged_error(&self) -> Option<&(dyn std::fmt::Display + '_)>;
}

impl<T, E: std::fmt::Display> ObservedResult for Result<T, E> {
    #[inline]
    fn logged_error(&self) -> Option<&(dyn std::fmt::Display + '_)> {
        match self {
            Err(error) => Some(error),
            Ok(_) => None,
        }
    }
}

/// Picked for `Result<T, E>` by an `err` that an impl block gives all its
/// methods: only those returning a `Result` have an error to log, and the
/// macro cannot tell them apart by the written type (aliases, `Result`
/// lookalikes), so the type decides, as for [`IsResult`].
pub trait HasError {
    /// `E`.
    type Error;
    /// The error of an `Err`, `None` for `Ok`.
    fn logged_error(&self) -> Option<&Self::Error>;
}

impl<T, E> HasError for Check<'_, Result<T, E>> {
    type Error = E;
    #[inline]
    fn logged_error(&self) -> Option<&E> {
        self.0.as_ref().err()
    }
}

/// Picked for every other type: nothing to log.
pub trait NoError {
    /// Always `None`.
    #[inline]
    fn logged_error(&self) -> Option<&NotAnError> {
        None
    }
}

impl<T> NoError for &Check<'_, T> {}

/// The error of a value that is not a `Result`: there is none. `Display`
/// so that the logging code, never run for it, compiles.
pub enum NotAnError {}

impl std::fmt::Display for NotAnError {
    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {}
    }
}

/// Wraps a returned value to find the `std::error::Error` behind its
/// `Err`, whose `source()` chain the `err` log line and a task's failure
/// line carry as `error.sources`. Asked as `(&&&Sources(&value)).error_sources()`:
/// method lookup tries, in this order, [`SourcesOfError`] (`E:
/// Error`), [`SourcesOfSharedError`] (`E: AsRef<dyn Error + Send +
/// Sync>`: `anyhow::Error`, `eyre::Report`, `Box<dyn Error + Send +
/// Sync>`), [`SourcesOfLocalError`] (`E: AsRef<dyn Error>`: `Box<dyn
/// Error>`), then [`NoSources`] for anything else.
pub struct Sources<'a, T>(pub &'a T);

/// Picked first: the error is a `std::error::Error`.
pub trait SourcesOfError {
    /// The `Display` of each `source()` of the `Err`, outermost first,
    /// joined by `: `; `None` for `Ok` or an error without a source.
    fn error_sources(&self) -> Option<String>;
}

impl<T, E: std::error::Error + 'static> SourcesOfError for &&Sources<'_, Result<T, E>> {
    fn error_sources(&self) -> Option<String> {
        self.0.as_ref().err().and_then(|error| sources_of(error))
    }
}

/// Picked second: the error holds a thread-safe `dyn Error`.
pub trait SourcesOfSharedError {
    /// See [`SourcesOfError::error_sources`].
    fn error_sources(&self) -> Option<String>;
}

impl<T, E> SourcesOfSharedError for &&&Sources<'_, Result<T, E>>
where
    E: AsRef<dyn std::error::Error + Send + Sync + 'static>,
{
    fn error_sources(&self) -> Option<String> {
        self.0
            .as_ref()
            .err()
            .and_then(|error| sources_of(error.as_ref()))
    }
}

/// Picked third: the error holds a `dyn Error`.
pub trait SourcesOfLocalError {
    /// See [`SourcesOfError::error_sources`].
    fn error_sources(&self) -> Option<String>;
}

impl<T, E> SourcesOfLocalError for &Sources<'_, Result<T, E>>
where
    E: AsRef<dyn std::error::Error + 'static>,
{
    fn error_sources(&self) -> Option<String> {
        self.0
            .as_ref()
            .err()
            .and_then(|error| sources_of(error.as_ref()))
    }
}

/// Picked last: no `std::error::Error` to ask (an error that is only
/// `Display`, or a value that is not a `Result`).
pub trait NoSources {
    /// Always `None`.
    fn error_sources(&self) -> Option<String> {
        None
    }
}

impl<T> NoSources for Sources<'_, T> {}

fn sources_of(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    crate::error_text::causes(error)
}

#[cfg(test)]
// The borrow is the mechanism under test: it is what lets the generated code
// pick `NotResult` for types that are not `Result`.
#[allow(clippy::needless_borrow)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct MyError;

    fn error_type_of_result(r: &std::io::Result<u8>) -> Option<&'static str> {
        (&Check(r)).error_type()
    }

    #[test]
    fn results_are_told_apart_from_other_values() {
        let ok: Result<u8, MyError> = Ok(1);
        let err: Result<u8, MyError> = Err(MyError);
        assert_eq!((&Check(&ok)).error_type(), None);
        assert_eq!(
            (&Check(&err)).error_type(),
            Some(std::any::type_name::<MyError>())
        );
        assert_eq!((&Check(&42_u32)).error_type(), None);
        assert_eq!((&Check(&Some(MyError))).error_type(), None);
        let io_err = Err(std::io::Error::other("x"));
        assert_eq!(error_type_of_result(&io_err), Some("std::io::error::Error"));
    }

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);

    impl std::fmt::Display for Layer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1
                .as_deref()
                .map(|l| l as &(dyn std::error::Error + 'static))
        }
    }

    fn layered() -> Layer {
        Layer(
            "order not saved",
            Some(Box::new(Layer(
                "query failed",
                Some(Box::new(Layer("connection refused", None))),
            ))),
        )
    }

    #[test]
    fn the_sources_of_every_kind_of_error_are_found() {
        let chain = Some("query failed: connection refused".to_owned());
        let plain: Result<(), Layer> = Err(layered());
        assert_eq!((&&&Sources(&plain)).error_sources(), chain);
        let shared: Result<(), Box<dyn std::error::Error + Send + Sync>> = Err(Box::new(layered()));
        assert_eq!((&&&Sources(&shared)).error_sources(), chain);
        let local: Result<(), Box<dyn std::error::Error>> = Err(Box::new(layered()));
        assert_eq!((&&&Sources(&local)).error_sources(), chain);

        let alone: Result<(), Layer> = Err(Layer("declined", None));
        assert_eq!((&&&Sources(&alone)).error_sources(), None);
        let ok: Result<(), Layer> = Ok(());
        assert_eq!((&&&Sources(&ok)).error_sources(), None);
        let display_only: Result<(), &str> = Err("declined");
        assert_eq!((&&&Sources(&display_only)).error_sources(), None);
        assert_eq!((&&&Sources(&42_u8)).error_sources(), None);
    }

    /// In a generic function, what its bounds promise decides.
    fn sources_in_generic<E: std::fmt::Display>(result: &Result<(), E>) -> Option<String> {
        (&&&Sources(result)).error_sources()
    }

    #[test]
    fn a_generic_error_without_an_error_bound_has_none() {
        assert_eq!(sources_in_generic(&Err(layered())), None);
    }

    #[test]
    fn only_results_have_an_error_to_log() {
        let err: Result<u8, &str> = Err("declined");
        let ok: Result<u8, &str> = Ok(1);
        assert_eq!((&Check(&err)).logged_error(), Some(&"declined"));
        assert_eq!((&Check(&ok)).logged_error(), None);
        assert!((&Check(&42_u32)).logged_error().is_none());
    }
}
