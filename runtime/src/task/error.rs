//! Why a task run failed, as `#[task_traced]` reads it from the returned
//! value: [`TaskError`] (the error's type name, `Display` and `source()`
//! chain), and the lookup of a `Display` message by autoref, as
//! [`Check`](crate::observe::Check) does for the error type.

/// Why a run failed: the error's type name, its `Display` when it has one,
/// and its `source()` chain when it is a `std::error::Error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskError {
    /// `error.type`: the error's type name.
    pub error_type: &'static str,
    /// `error`: the error's `Display`, if it implements it.
    pub message: Option<String>,
    /// `error.sources`: the `Display` of each `source()`, outermost first,
    /// joined by `: `.
    pub sources: Option<String>,
}

/// Wraps a returned value to ask it for a [`TaskError`] message, as
/// [`Check`](crate::observe::Check) does for the error type.
pub struct ErrorMessage<'a, T>(pub &'a T);

/// Picked for `Result<T, E>` with `E: Display`.
pub trait HasMessage {
    /// The error's `Display` for `Err`, `None` for `Ok`.
    fn error_message(&self) -> Option<String>;
}

impl<T, E: std::fmt::Display> HasMessage for ErrorMessage<'_, Result<T, E>> {
    fn error_message(&self) -> Option<String> {
        self.0.as_ref().err().map(ToString::to_string)
    }
}

/// Picked for every other type: no message.
pub trait NoMessage {
    /// Always `None`.
    fn error_message(&self) -> Option<String> {
        None
    }
}

impl<T> NoMessage for &ErrorMessage<'_, T> {}

/// The [`TaskError`] of a returned value, from its error type (`None`:
/// not an error), message and sources.
pub fn task_error(
    error_type: Option<&'static str>,
    message: Option<String>,
    sources: Option<String>,
) -> Option<TaskError> {
    error_type.map(|error_type| TaskError {
        error_type,
        message,
        sources,
    })
}
