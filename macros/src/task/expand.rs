//! Code generation for one task function: a `TaskSite` static, a `TaskRun`
//! guard started from the carrier's context before the body runs (and that
//! records the outcome when dropped), and the body run inside the consumer
//! span. The logic is in `o11y::__private` / `o11y::task`.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Attribute, Block, FnArg, Ident, Pat, Signature, Type};

use super::args::{TaskArgs, push};
use crate::common::{Level, krate};
use crate::observe::expand::{
    error_sources, result_events, returned_future, returns_never, span_fields, with_fake_return,
};

/// How the worker function receives its task.
pub(crate) enum CarrierKind {
    /// `o11y::task::Envelope<T>`, by value (`false`) or by reference.
    Envelope { by_ref: bool },
    /// A parameter marked `#[carrier]`: any `impl o11y::task::Carrier`.
    Headers,
}

/// The parameter the task's context is read from.
pub(crate) struct TheCarrier {
    pub(crate) ident: Ident,
    pub(crate) kind: CarrierKind,
    ty: Type,
}

/// The `#[carrier]` markers, taken off the parameters: (parameter index, marker).
pub(crate) struct Markers(Vec<(usize, Attribute)>);

pub(crate) fn take_carriers(sig: &mut Signature) -> Markers {
    let mut markers = Vec::new();
    for (index, input) in sig.inputs.iter_mut().enumerate() {
        let attrs = match input {
            FnArg::Typed(typed) => &mut typed.attrs,
            FnArg::Receiver(receiver) => &mut receiver.attrs,
        };
        let mut kept = Vec::with_capacity(attrs.len());
        for attr in attrs.drain(..) {
            if attr.path().is_ident("carrier") {
                markers.push((index, attr));
            } else {
                kept.push(attr);
            }
        }
        *attrs = kept;
    }
    Markers(markers)
}

/// Rejects what cannot be a task, at the offending token.
pub(crate) fn check_signature(sig: &Signature) -> syn::Result<()> {
    if let Some(constness) = &sig.constness {
        return Err(syn::Error::new_spanned(
            constness,
            "#[task_traced] cannot trace a `const fn`: a task runs on a worker, at run time",
        ));
    }
    if let Some(variadic) = &sig.variadic {
        return Err(syn::Error::new_spanned(
            variadic,
            "#[task_traced] cannot trace a variadic function",
        ));
    }
    if returns_never(&sig.output) {
        return Err(syn::Error::new_spanned(
            &sig.output,
            "#[task_traced] needs a task that returns: a function returning `!` has no outcome \
             to record; put the worker loop around a task function instead",
        ));
    }
    Ok(())
}

/// The one carrier parameter: marked `#[carrier]`, or typed `Envelope<..>`.
pub(crate) fn the_carrier(sig: &Signature, markers: Markers) -> syn::Result<TheCarrier> {
    let mut errors: Option<syn::Error> = None;
    let mut found: Vec<(TheCarrier, TokenStream)> = Vec::new();
    for (index, input) in sig.inputs.iter().enumerate() {
        let marks: Vec<&Attribute> = markers
            .0
            .iter()
            .filter(|(i, _)| *i == index)
            .map(|(_, attr)| attr)
            .collect();
        let typed = match input {
            FnArg::Typed(typed) => typed,
            FnArg::Receiver(receiver) => {
                if let Some(mark) = marks.first() {
                    push(
                        &mut errors,
                        syn::Error::new_spanned(
                            mark,
                            "`self` cannot be the carrier: mark a parameter holding the headers map",
                        ),
                    );
                }
                let _ = receiver;
                continue;
            }
        };
        for mark in &marks {
            if !matches!(mark.meta, syn::Meta::Path(_)) {
                push(
                    &mut errors,
                    syn::Error::new_spanned(&mark.meta, "`#[carrier]` takes no arguments"),
                );
            }
        }
        if let Some(extra) = marks.get(1) {
            push(
                &mut errors,
                syn::Error::new_spanned(extra, "`#[carrier]` is given twice on this parameter"),
            );
        }
        // A parameter marked `#[carrier]` is a headers map, whatever its
        // type is named.
        let kind = match (marks.first(), envelope_type(&typed.ty)) {
            (Some(_), _) => CarrierKind::Headers,
            (None, Some(by_ref)) => CarrierKind::Envelope { by_ref },
            (None, None) => continue,
        };
        let token = match marks.first() {
            Some(mark) => mark.to_token_stream(),
            None => typed.ty.to_token_stream(),
        };
        let ident = match &*typed.pat {
            Pat::Ident(pat) if pat.subpat.is_none() => pat.ident.clone(),
            pat => {
                push(
                    &mut errors,
                    syn::Error::new_spanned(
                        pat,
                        "the task's carrier must be bound to a name (`job: Envelope<T>`), so the \
                         trace context can be read from it before the body runs",
                    ),
                );
                continue;
            }
        };
        found.push((
            TheCarrier {
                ident,
                kind,
                ty: (*typed.ty).clone(),
            },
            token,
        ));
    }
    if let Some(((first, _), rest)) = found.split_first() {
        for (_, token) in rest {
            push(
                &mut errors,
                syn::Error::new_spanned(
                    token,
                    format!(
                        "a task has one carrier, and `{}` already is: the trace context comes \
                         from one message (batch consumers: one #[task_traced] call per message)",
                        first.ident
                    ),
                ),
            );
        }
    }
    if let Some(error) = errors {
        return Err(error);
    }
    match found.into_iter().next() {
        Some((carrier, _)) => Ok(carrier),
        None => Err(syn::Error::new(
            sig.paren_token.span.join(),
            format!(
                "#[task_traced] needs the task's carrier among the parameters of `{}`: an \
                 `o11y::task::Envelope<T>`, or a headers map (`impl o11y::task::Carrier`) \
                 marked `#[carrier]`",
                sig.ident
            ),
        )),
    }
}

/// `Some(by_ref)` when the type is `Envelope<..>` (any path ending so, with
/// the generic argument o11y's has) or a reference to one. A broker's own
/// message type named `Envelope` has none, or is marked `#[carrier]`.
fn envelope_type(ty: &Type) -> Option<bool> {
    match ty {
        Type::Reference(reference) => envelope_type(&reference.elem).map(|_| true),
        Type::Paren(inner) => envelope_type(&inner.elem),
        Type::Group(inner) => envelope_type(&inner.elem),
        Type::Path(path) => path
            .path
            .segments
            .last()
            .is_some_and(|s| {
                s.ident == "Envelope"
                    && matches!(s.arguments, syn::PathArguments::AngleBracketed(_))
            })
            .then_some(false),
        _ => None,
    }
}

/// The new body of a task function.
pub(crate) fn body(
    args: &TaskArgs,
    sig: &Signature,
    block: &Block,
    carrier: &TheCarrier,
) -> TokenStream {
    let common = &args.common;
    let krate = krate(&common.krate.as_ref().map(|(_, path)| path.clone()));
    let task_name = match &common.name {
        Some((_, name)) => name.value(),
        None => sig.ident.to_string(),
    };
    let link = args.link.is_some();
    let span_name = format!("process {task_name}");
    let level = common
        .level
        .as_ref()
        .map_or(Level::Info, |(_, level)| *level)
        .tokens(&krate);
    let fields = span_fields(common, sig, &krate);
    let make_span = quote! {
        || #krate::__private::tracing::span!(
            target: ::core::module_path!(), #level, #span_name,
            otel.kind = "consumer",
            // Recorded by `TaskRun::start` from the task's context.
            messaging.system = #krate::__private::tracing::field::Empty,
            messaging.destination.name = #krate::__private::tracing::field::Empty,
            messaging.operation.name = "process",
            messaging.operation.type = "process",
            messaging.message.id = #krate::__private::tracing::field::Empty
            #(, #fields)*
        )
    };
    let ident = &carrier.ident;
    let context = match carrier.kind {
        CarrierKind::Envelope { by_ref: false } => {
            quote_spanned!(carrier.ty.span()=> #krate::task::Envelope::context(&#ident))
        }
        CarrierKind::Envelope { by_ref: true } => {
            quote_spanned!(carrier.ty.span()=> #krate::task::Envelope::context(#ident))
        }
        CarrierKind::Headers => quote_spanned!(ident.span()=> #krate::task::extract(&#ident)),
    };
    let imports = quote! {
        #[allow(unused_imports)]
        use #krate::__private::{IsResult as _, NotResult as _, HasMessage as _, NoMessage as _};
    };
    let site = quote! {
        static __O11Y_TASK: #krate::__private::TaskSite =
            #krate::__private::TaskSite::new(#task_name, ::core::module_path!(), #link);
    };
    let sources = error_sources(&krate, &quote!(__o11y_result));
    let finish = quote! {
        #krate::__private::TaskRun::finish(
            __o11y_run,
            #krate::__private::task_error(
                (&#krate::__private::Check(&__o11y_result)).error_type(),
                (&#krate::__private::ErrorMessage(&__o11y_result)).error_message(),
                #sources,
            ),
        );
    };
    let run_async = |context: TokenStream, future: TokenStream| {
        let events = result_events(common, &krate, &quote!(__o11y_inner), &task_name);
        quote! {
            let __o11y_run = #krate::__private::TaskRun::start_async(
                &__O11Y_TASK, #krate::__private::flags(), #context, #make_span,
            );
            let __o11y_future = async move {
                let __o11y_inner = #future.await;
                #events
                __o11y_inner
            };
            let __o11y_result = match &__o11y_run {
                ::core::option::Option::Some(run) => run.run(__o11y_future).await,
                ::core::option::Option::None => __o11y_future.await,
            };
            #finish
            __o11y_result
        }
    };
    if let Some(returned) = returned_future(sig, block, &krate) {
        // The task is the returned future (`#[async_trait]`'s boxed one, or
        // a tail `async move`). Its context is read at the call, before the
        // statements that build the future can move the carrier.
        let future = &returned.future;
        let run = run_async(quote!(__o11y_context), quote!(#future));
        let first = quote!(let __o11y_context = #context;);
        return returned.wrap(first, quote!(#imports #site #run));
    }
    let inner = with_fake_return(block, &sig.output);
    if sig.asyncness.is_some() {
        let run = run_async(context, quote!(async move #inner));
        return quote!({ #imports #site #run });
    }
    let inner = if sig.unsafety.is_some() {
        quote!({ #[allow(unused_unsafe)] unsafe #inner })
    } else {
        inner
    };
    // Spanned as where it is bound below, to resolve there.
    let result = quote_spanned!(block.span()=> __o11y_result);
    let events = result_events(common, &krate, &result, &task_name);
    quote_spanned! {block.span()=>
        {
            #imports
            #site
            let __o11y_run = #krate::__private::TaskRun::start(
                &__O11Y_TASK, #krate::__private::flags(), #context, #make_span,
            );
            #[allow(clippy::let_unit_value)]
            let __o11y_result = #krate::__private::TaskRun::call(&__o11y_run, move || #inner);
            {
                let __o11y_entered = __o11y_run.as_ref().map(|run| run.span().enter());
                #events
            }
            #finish
            __o11y_result
        }
    }
}
