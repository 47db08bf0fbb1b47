//! `#[metric]`: declares a static metric, checked at compile time and
//! registered at link time.

mod args;
mod expand;
// The naming rules, shared with the runtime so both reject the same names.
use o11y_naming as naming;

use proc_macro2::TokenStream;

use args::{Declaration, MetricArgs};

use crate::common::with_errors;

/// Entry point: parse, check, expand; on error, the errors plus the item as written.
pub(crate) fn metric(attr: TokenStream, item: TokenStream) -> TokenStream {
    let declaration = syn::parse2::<Declaration>(item);
    let args = match syn::parse2::<MetricArgs>(attr) {
        Ok(args) => args,
        Err(error) => {
            // Without the metric type, the declared type says it, so the
            // static is still declared and its uses add no errors.
            let fallback = declaration.ok().and_then(|declaration| {
                let kind = args::kind_of_type(&declaration.ty)?;
                Some(expand::fallback(
                    kind,
                    &[],
                    None,
                    &declaration,
                    &quote::quote!(::o11y),
                ))
            });
            return with_errors(fallback.unwrap_or_default(), error);
        }
    };
    match declaration {
        Ok(declaration) => expand::expand(&args, &declaration),
        Err(error) => error.to_compile_error(),
    }
}
