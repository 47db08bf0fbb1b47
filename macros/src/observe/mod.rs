//! `#[observe]`: on a function, or on an `impl` block (every method, named
//! `Type::method`, unless it says `#[observe(skip)]`).

pub(crate) mod args;
pub(crate) mod expand;
pub(crate) mod objective;

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::{ImplItem, Item, ItemImpl, Type};

pub(crate) use args::ObserveArgs;
use expand::Names;

use crate::common::with_errors;

/// Entry point: parse, check, expand; on error, the errors plus the item
/// as written.
pub(crate) fn observe(attr: TokenStream, item: TokenStream) -> TokenStream {
    let args = match syn::parse2::<ObserveArgs>(attr) {
        Ok(args) => args,
        Err(error) => return with_errors(item, error),
    };
    if cfg!(feature = "off")
        && args.args.is_none()
        && args.fields.is_none()
        && off_as_written(&args, &item)
    {
        return item;
    }
    let parsed = match syn::parse2::<Item>(item.clone()) {
        Ok(parsed) => parsed,
        Err(error) => return with_errors(item, error),
    };
    let expanded = match parsed {
        Item::Fn(function) => observe_fn(&args, function),
        Item::Impl(block) => Ok(observe_impl(&args, block)),
        Item::ForeignMod(foreign) => Err(syn::Error::new_spanned(
            &foreign.abi,
            "#[observe] cannot instrument an `extern` block: its functions are defined elsewhere, \
             so there is no body to observe; observe the Rust function that calls them",
        )),
        other => Err(syn::Error::new_spanned(
            item_keyword(&other),
            "#[observe] goes on a function (`fn`, `async fn`, a method) or on an `impl` block",
        )),
    };
    expanded.unwrap_or_else(|error| with_errors(item, error))
}

/// A function's attributes and signature, its body left unparsed: all
/// that the checks read.
struct FnHead {
    attrs: Vec<syn::Attribute>,
    sig: syn::Signature,
}

impl syn::parse::Parse for FnHead {
    fn parse(input: syn::parse::ParseStream<'_>) -> syn::Result<Self> {
        let attrs = input.call(syn::Attribute::parse_outer)?;
        let _: syn::Visibility = input.parse()?;
        let sig: syn::Signature = input.parse()?;
        let body: proc_macro2::Group = input.parse()?;
        if body.delimiter() != proc_macro2::Delimiter::Brace || !input.is_empty() {
            return Err(input.error("not a function with a body"));
        }
        Ok(FnHead { attrs, sig })
    }
}

/// With the `off` feature, a function whose arguments record no parameter
/// is returned as written: when it passes the checks (the same ones as
/// [`observe_fn`], which reports any failure), without parsing its body.
fn off_as_written(args: &ObserveArgs, item: &TokenStream) -> bool {
    let Ok(head) = syn::parse2::<FnHead>(item.clone()) else {
        return false;
    };
    expand::check_signature(&head.sig).is_ok()
        && crate::common::reject_track_caller(&head.attrs, "observe").is_ok()
        && args.check(&expand::param_names(&head.sig)).is_ok()
        && expand::check_outcome_args(args, &head.sig).is_ok()
}

/// The keyword of an item (`struct`, `enum`, ...), where an error about
/// the kind of item points.
pub(crate) fn item_keyword(item: &Item) -> TokenStream {
    match item {
        Item::Struct(s) => s.struct_token.to_token_stream(),
        Item::Enum(e) => e.enum_token.to_token_stream(),
        Item::Static(s) => s.static_token.to_token_stream(),
        Item::Const(c) => c.const_token.to_token_stream(),
        Item::Trait(t) => t.trait_token.to_token_stream(),
        Item::Mod(m) => m.mod_token.to_token_stream(),
        Item::Type(t) => t.type_token.to_token_stream(),
        Item::Use(u) => u.use_token.to_token_stream(),
        other => other.to_token_stream(),
    }
}

fn observe_fn(args: &ObserveArgs, mut function: syn::ItemFn) -> syn::Result<TokenStream> {
    expand::check_signature(&function.sig)?;
    crate::common::reject_track_caller(&function.attrs, "observe")?;
    args.check(&expand::param_names(&function.sig))?;
    expand::check_outcome_args(args, &function.sig)?;
    if cfg!(feature = "off") {
        expand::mark_recorded_params_used(args, &function.sig, &mut function.block);
        return Ok(function.into_token_stream());
    }
    let names = Names {
        function: function.sig.ident.to_string(),
        self_type: None,
        in_impl: expand::is_associated(&function.sig),
    };
    let body = expand::body(args, &function.sig, &function.block, &names);
    function.block = Box::new(syn::parse2(body)?);
    Ok(function.into_token_stream())
}

/// The name methods get: the last path segment of the type, without generics.
fn type_name(ty: &Type) -> String {
    match ty {
        Type::Path(path) => path
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default(),
        Type::Reference(reference) => type_name(&reference.elem),
        other => other.to_token_stream().to_string().replace(' ', ""),
    }
}

fn observe_impl(args: &ObserveArgs, mut block: ItemImpl) -> TokenStream {
    let mut errors: Option<syn::Error> = None;
    let misplaced = [
        args.fields.as_ref().map(|(key, _)| {
            (key, "`fields` on an impl block would apply to every method; put it on the methods that have those values")
        }),
        args.args.as_ref().map(|(key, _)| (key, "`args` goes on a method, not on the impl block")),
        args.skip.as_ref().map(|(key, _)| (key, "`skip` goes on a method of the block, to opt it out")),
        args.name.as_ref().map(|(key, _)| (key, "`name` goes on a method: each method's span has its own name")),
        args.objective.as_ref().map(|(key, _)| (key, "`objective` goes on a method: each method's calls are measured on their own")),
    ];
    for (key, message) in misplaced.into_iter().flatten() {
        push(&mut errors, syn::Error::new_spanned(key, message));
    }
    let block_is_valid = errors.is_none();

    // First every method's own #[observe(...)] is taken off (whatever
    // happens next, so that it never expands on its own) and checked.
    let mut plans: Vec<Option<ObserveArgs>> = Vec::with_capacity(block.items.len());
    for item in &mut block.items {
        let ImplItem::Fn(method) = item else {
            plans.push(None);
            continue;
        };
        let own = take_own_args(method, &mut errors);
        let method_args = match own {
            Some(own) if own.is_opt_out() => {
                plans.push(None);
                continue;
            }
            Some(own) => args.merged_with(own),
            None => ObserveArgs {
                err_if_result: args.err.is_some(),
                ..args.clone()
            },
        };
        // The block's `err` reaches every method, and the returned type
        // decides whether there is an error to log (a method's own `err` is
        // checked as on a function); `-> !` returns nothing to look at.
        let method_args = if method_args.err_if_result && expand::returns_never(&method.sig.output)
        {
            ObserveArgs {
                err: None,
                err_if_result: false,
                ..method_args
            }
        } else {
            method_args
        };
        if block_is_valid {
            let result = expand::check_signature(&method.sig)
                .and_then(|()| crate::common::reject_track_caller(&method.attrs, "observe"))
                .and_then(|()| method_args.check(&expand::param_names(&method.sig)))
                .and_then(|()| expand::check_outcome_args(&method_args, &method.sig));
            if let Err(error) = result {
                push(&mut errors, error);
            }
        }
        plans.push(Some(method_args));
    }
    if let Some(error) = errors {
        // The block without the attributes, so the rest of the crate still
        // sees its methods.
        return with_errors(quote!(#block), error);
    }
    if cfg!(feature = "off") {
        for (item, plan) in block.items.iter_mut().zip(plans) {
            if let (ImplItem::Fn(method), Some(method_args)) = (item, plan) {
                expand::mark_recorded_params_used(&method_args, &method.sig, &mut method.block);
            }
        }
        return quote!(#block);
    }

    let self_type = type_name(&block.self_ty);
    for (item, plan) in block.items.iter_mut().zip(plans) {
        let (ImplItem::Fn(method), Some(method_args)) = (item, plan) else {
            continue;
        };
        let names = Names {
            function: format!("{self_type}::{}", method.sig.ident),
            self_type: Some(self_type.clone()),
            in_impl: false,
        };
        let body = expand::body(&method_args, &method.sig, &method.block, &names);
        match syn::parse2(body) {
            Ok(body) => method.block = body,
            Err(error) => return with_errors(quote!(#block), error),
        }
    }
    quote!(#block)
}

/// Removes a method's own `#[observe(...)]` (or `#[o11y::observe(...)]`)
/// and returns its arguments.
fn take_own_args(
    method: &mut syn::ImplItemFn,
    errors: &mut Option<syn::Error>,
) -> Option<ObserveArgs> {
    let mut own: Option<ObserveArgs> = None;
    let mut kept_attrs = Vec::with_capacity(method.attrs.len());
    for attr in method.attrs.drain(..) {
        if !is_observe(&attr) {
            kept_attrs.push(attr);
            continue;
        }
        if own.is_some() {
            push(
                errors,
                syn::Error::new_spanned(
                    &attr,
                    "a method takes one #[observe(...)]: merge their arguments",
                ),
            );
            continue;
        }
        let parsed = match &attr.meta {
            syn::Meta::Path(_) => Ok(ObserveArgs::default()),
            _ => attr.parse_args::<ObserveArgs>(),
        };
        match parsed {
            Ok(parsed) => own = Some(parsed),
            Err(error) => push(errors, error),
        }
    }
    method.attrs = kept_attrs;
    own
}

/// `#[observe]` under any path: `observe`, `o11y::observe`, or the path of
/// a renamed dependency or a re-export (`crate = ...`), whose last segment
/// is still `observe`.
fn is_observe(attr: &syn::Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|segment| segment.ident == "observe")
}

fn push(errors: &mut Option<syn::Error>, error: syn::Error) {
    match errors {
        Some(all) => all.combine(error),
        None => *errors = Some(error),
    }
}
