//! What the attributes share: the `crate = path` argument, levels, string
//! literals, and "did you mean" suggestions for misspelled arguments.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::{Ident, LitStr, Path};

/// The path generated code reaches o11y through: `::o11y` unless the user
/// re-exports it (`crate = my_crate::o11y`).
pub(crate) fn krate(path: &Option<Path>) -> TokenStream {
    match path {
        Some(path) => path.to_token_stream(),
        None => quote!(::o11y),
    }
}

/// A `tracing` level named in an argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

pub(crate) const LEVELS: [&str; 5] = ["trace", "debug", "info", "warn", "error"];

impl Level {
    pub(crate) fn parse(lit: &LitStr) -> syn::Result<Level> {
        let value = lit.value();
        Ok(match value.to_ascii_lowercase().as_str() {
            "trace" => Level::Trace,
            "debug" => Level::Debug,
            "info" => Level::Info,
            "warn" | "warning" => Level::Warn,
            "error" => Level::Error,
            _ => {
                let hint = did_you_mean(&value.to_ascii_lowercase(), &LEVELS);
                return Err(syn::Error::new_spanned(
                    lit,
                    format!(
                        "unknown level `{value}`: expected one of trace, debug, info, warn, error{hint}"
                    ),
                ));
            }
        })
    }

    pub(crate) fn tokens(self, krate: &TokenStream) -> TokenStream {
        let level = match self {
            Level::Trace => quote!(TRACE),
            Level::Debug => quote!(DEBUG),
            Level::Info => quote!(INFO),
            Level::Warn => quote!(WARN),
            Level::Error => quote!(ERROR),
        };
        quote!(#krate::__private::tracing::Level::#level)
    }
}

/// `; did you mean `x`?` when a known word is close to `word`, else "".
pub(crate) fn did_you_mean(word: &str, known: &[&str]) -> String {
    known
        .iter()
        .map(|candidate| (edit_distance(word, candidate), candidate))
        .filter(|(distance, candidate)| {
            *distance <= 2.max(candidate.len() / 3) && *distance < candidate.len()
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| format!("; did you mean `{candidate}`?"))
        .unwrap_or_default()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

/// An error for an argument given twice, at its second occurrence.
pub(crate) fn duplicate(ident: &Ident) -> syn::Error {
    syn::Error::new_spanned(ident, format!("`{ident}` is given twice"))
}

/// The item unchanged plus the errors: the user's code still compiles as
/// written around the error, so the IDE keeps working mid-edit.
pub(crate) fn with_errors(item: TokenStream, error: syn::Error) -> TokenStream {
    let errors = error.to_compile_error();
    quote!(#errors #item)
}

/// Rejects `#[track_caller]` on a function `attribute` instruments: its
/// body runs in a closure, where `Location::caller()` (and a panic's
/// location) would name the function itself instead of its caller.
pub(crate) fn reject_track_caller(attrs: &[syn::Attribute], attribute: &str) -> syn::Result<()> {
    match attrs
        .iter()
        .find(|attr| attr.path().is_ident("track_caller"))
    {
        None => Ok(()),
        Some(attr) => Err(syn::Error::new_spanned(
            attr,
            format!(
                "#[{attribute}] cannot keep `#[track_caller]`: the body runs in a closure, where \
                 `Location::caller()` names this function instead of its caller; remove one of \
                 the two"
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_are_close_words_only() {
        assert_eq!(
            did_you_mean("feilds", &["fields", "skip"]),
            "; did you mean `fields`?"
        );
        assert_eq!(
            did_you_mean("concurency", &["concurrency"]),
            "; did you mean `concurrency`?"
        );
        assert_eq!(did_you_mean("banana", &["fields", "skip"]), "");
    }
}
