//! An error as one line of text: its message and every cause, the way the
//! export thread and the HTTP client middleware report failures (tonic,
//! hyper and reqwest put the useful part, "connection refused", in a cause),
//! and the causes alone, as the `error.sources` of an error log line.

use std::error::Error;

/// `text`, then `: cause` for each cause of `error`, outermost first.
pub(crate) fn with_causes(mut text: String, error: &dyn Error) -> String {
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// `error`'s message and causes.
pub(crate) fn error_chain(error: &dyn Error) -> String {
    with_causes(error.to_string(), error)
}

/// `error`'s causes alone, outermost first, separated by `: `; `None` when
/// it has none.
pub(crate) fn causes(error: &dyn Error) -> Option<String> {
    let first = error.source()?;
    Some(with_causes(first.to_string(), first))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Wrapped(&'static str, Option<Box<Wrapped>>);

    impl std::fmt::Display for Wrapped {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl Error for Wrapped {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            self.1
                .as_deref()
                .map(|cause| cause as &(dyn Error + 'static))
        }
    }

    #[test]
    fn causes_follow_the_message() {
        let refused = Wrapped("connection refused", None);
        let error = Wrapped("transport error", Some(Box::new(refused)));
        assert_eq!(error_chain(&error), "transport error: connection refused");
        assert_eq!(
            with_causes("export failed".into(), &error),
            "export failed: connection refused"
        );
        assert_eq!(causes(&error).as_deref(), Some("connection refused"));
        assert_eq!(causes(&Wrapped("alone", None)), None);
    }
}
