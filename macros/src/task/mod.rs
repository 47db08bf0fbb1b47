//! `#[task_traced]`: on a worker function taking an `Envelope<T>` (or a
//! headers map marked `#[carrier]`), a CONSUMER span continuing the
//! producer's trace, lifecycle events and task metrics.

mod args;
mod expand;

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::Item;

use args::TaskArgs;

use crate::common::with_errors;
use crate::observe::expand::{mark_recorded_params_used, param_names};

/// Entry point: parse, check, expand; on error, the errors plus the item
/// (without its `#[carrier]` markers, which are not attributes of their own).
pub(crate) fn task_traced(attr: TokenStream, item: TokenStream) -> TokenStream {
    let parsed = match syn::parse2::<Item>(item.clone()) {
        Ok(parsed) => parsed,
        Err(error) => return with_errors(item, error),
    };
    let Item::Fn(mut function) = parsed else {
        let error = syn::Error::new_spanned(
            crate::observe::item_keyword(&parsed),
            "#[task_traced] goes on a worker function (`fn` or `async fn`) taking the task's \
             `Envelope<T>` or a `#[carrier]` headers map",
        );
        return with_errors(item, error);
    };
    // Taken off first, whatever happens next: `#[carrier]` is not an attribute.
    let carriers = expand::take_carriers(&mut function.sig);
    let args = match syn::parse2::<TaskArgs>(attr) {
        Ok(args) => args,
        Err(error) => return with_errors(function.into_token_stream(), error),
    };
    let checked = expand::check_signature(&function.sig)
        .and_then(|()| crate::common::reject_track_caller(&function.attrs, "task_traced"))
        .and_then(|()| args.check(&param_names(&function.sig)))
        .and_then(|()| expand::the_carrier(&function.sig, carriers));
    let carrier = match checked {
        Ok(carrier) => carrier,
        Err(error) => return with_errors(function.into_token_stream(), error),
    };
    if cfg!(feature = "off") {
        mark_recorded_params_used(&args.common, &function.sig, &mut function.block);
        return function.into_token_stream();
    }
    let body = expand::body(&args, &function.sig, &function.block, &carrier);
    match syn::parse2(body) {
        Ok(block) => {
            function.block = Box::new(block);
            function.into_token_stream()
        }
        Err(error) => with_errors(function.into_token_stream(), error),
    }
}
