//! Code generation for one observed function: a call-site `static`, a
//! [`CallGuard`](../../o11y_runtime/observe/struct.CallGuard.html) that
//! records the call when dropped, the span (created only when it will be
//! recorded), and the body run inside it. Generated code stays thin: the
//! logic is in `o11y::__private`.
//!
//! Longer than 500 lines: every shape of body goes through here (sync,
//! `async`, `-> impl Future`, `-> !`, `unsafe`), with the span's fields
//! and the `err`/`ret` events. The fields (`span_fields`, `arg_field`) and
//! the events (`result_events`) are the parts to move out next.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{Block, Expr, FnArg, Ident, Pat, ReturnType, Signature, Stmt, Type};

use super::args::{ArgsSelection, Field, ObserveArgs, Sigil, SkipSelection, field_name};
use crate::common::{Level, krate};

/// Where the function lives, as far as names go.
pub(crate) struct Names {
    /// `function` label: `get_order`, or `OrderRepo::get` for methods of an observed impl.
    pub(crate) function: String,
    /// The type of an observed impl block, which names the span `Type::method`.
    pub(crate) self_type: Option<String>,
    /// A method observed alone (it has a receiver, or its signature says
    /// `Self`): the attribute cannot see its type, which the runtime reads
    /// from the `type_name` of a function nested in it.
    pub(crate) in_impl: bool,
}

/// Whether a function's signature shows it is an associated function: a
/// receiver, or `Self` anywhere in it.
pub(crate) fn is_associated(sig: &Signature) -> bool {
    fn mentions_self(tokens: TokenStream) -> bool {
        tokens.into_iter().any(|token| match token {
            proc_macro2::TokenTree::Ident(ident) => ident == "Self",
            proc_macro2::TokenTree::Group(group) => mentions_self(group.stream()),
            _ => false,
        })
    }
    sig.receiver().is_some()
        || mentions_self(sig.inputs.to_token_stream())
        || mentions_self(sig.output.to_token_stream())
}

/// The parameters a function binds, for `args(...)` and `skip(...)`.
pub(crate) fn param_names(sig: &Signature) -> Vec<Ident> {
    let mut names = Vec::new();
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(receiver) => names.push(Ident::new("self", receiver.self_token.span)),
            FnArg::Typed(typed) if is_configured(&typed.attrs) => {}
            FnArg::Typed(typed) => collect_bindings(&typed.pat, &mut names),
        }
    }
    names
}

/// Whether a parameter carries `#[cfg]` / `#[cfg_attr]`: it may not exist
/// in the build, so the expansion never names it.
fn is_configured(attrs: &[syn::Attribute]) -> bool {
    attrs
        .iter()
        .any(|attr| attr.path().is_ident("cfg") || attr.path().is_ident("cfg_attr"))
}

fn collect_bindings(pat: &Pat, names: &mut Vec<Ident>) {
    match pat {
        Pat::Ident(ident) => names.push(ident.ident.clone()),
        Pat::Tuple(tuple) => tuple.elems.iter().for_each(|p| collect_bindings(p, names)),
        Pat::TupleStruct(tuple) => tuple.elems.iter().for_each(|p| collect_bindings(p, names)),
        Pat::Struct(s) => s
            .fields
            .iter()
            .for_each(|f| collect_bindings(&f.pat, names)),
        Pat::Reference(r) => collect_bindings(&r.pat, names),
        Pat::Type(t) => collect_bindings(&t.pat, names),
        Pat::Slice(s) => s.elems.iter().for_each(|p| collect_bindings(p, names)),
        _ => {}
    }
}

/// Rejects what cannot be observed, with the reason, at the offending token.
pub(crate) fn check_signature(sig: &Signature) -> syn::Result<()> {
    if let Some(constness) = &sig.constness {
        return Err(syn::Error::new_spanned(
            constness,
            "#[observe] cannot instrument a `const fn`: a const call may run at compile time, \
             where there is no clock, span or metric; remove `const` or the attribute",
        ));
    }
    if let Some(variadic) = &sig.variadic {
        return Err(syn::Error::new_spanned(
            variadic,
            "#[observe] cannot instrument a variadic function",
        ));
    }
    Ok(())
}

/// With the `off` feature, the item is returned as written but for one
/// statement: `let _ = (&a, &b);` for the parameters that `args(...)` or
/// the `fields(...)` expressions would have read, so that a parameter used
/// only there is not reported unused when instrumentation is compiled out.
pub(crate) fn mark_recorded_params_used(args: &ObserveArgs, sig: &Signature, block: &mut Block) {
    let params = param_names(sig);
    let mut used: Vec<Ident> = Vec::new();
    if let Some((_, selection)) = &args.args {
        let skipped: &[Ident] = match &args.skip {
            Some((_, SkipSelection::Params(names))) => names,
            _ => &[],
        };
        match selection {
            ArgsSelection::All => {
                used.extend(
                    params
                        .iter()
                        .filter(|p| *p != "self" && !skipped.contains(p))
                        .cloned(),
                );
            }
            ArgsSelection::Listed(listed) => used.extend(listed.iter().cloned()),
        }
    }
    if let Some((_, fields)) = &args.fields {
        for field in fields {
            idents_in(field.value.to_token_stream(), &params, &mut used);
        }
    }
    used.sort_by_key(ToString::to_string);
    used.dedup_by_key(|ident| ident.to_string());
    if used.is_empty() {
        return;
    }
    let statement: Stmt = syn::parse_quote!(let _ = (#(&#used,)*););
    block.stmts.insert(0, statement);
}

/// The identifiers of `tokens` that name a parameter.
fn idents_in(tokens: TokenStream, params: &[Ident], found: &mut Vec<Ident>) {
    for token in tokens {
        match token {
            proc_macro2::TokenTree::Ident(ident) if params.contains(&ident) => found.push(ident),
            proc_macro2::TokenTree::Group(group) => idents_in(group.stream(), params, found),
            _ => {}
        }
    }
}

/// `err` and `ret` on a function that never returns (`-> !`).
pub(crate) fn check_outcome_args(args: &ObserveArgs, sig: &Signature) -> syn::Result<()> {
    if !returns_never(&sig.output) {
        return Ok(());
    }
    let mut errors = [&args.err, &args.ret]
        .into_iter()
        .flatten()
        .map(|(key, _)| {
            syn::Error::new_spanned(
                key,
                format!("`{key}` has nothing to log: the function never returns (`-> !`)"),
            )
        });
    let Some(mut first) = errors.next() else {
        return Ok(());
    };
    errors.for_each(|error| first.combine(error));
    Err(first)
}

/// The new body of an observed function.
pub(crate) fn body(
    args: &ObserveArgs,
    sig: &Signature,
    block: &Block,
    names: &Names,
) -> TokenStream {
    let krate = krate(&args.krate.as_ref().map(|(_, path)| path.clone()));
    let site = site_static(args, sig, names, &krate);
    let fields = span_fields(args, sig, &krate);
    // A span with fields is made by a `tracing::span!` here, which has
    // their values; one without is made by the runtime from the site.
    let start = |kind: &str, flags: TokenStream| -> TokenStream {
        if fields.is_empty() || !args.span_enabled() {
            let start = format_ident!("{kind}");
            quote!(#krate::__private::CallGuard::#start(&__O11Y_SITE, #flags))
        } else {
            let start = format_ident!("{kind}_with");
            let make_span = span_expr(args, sig, names, &krate, &fields);
            quote!(#krate::__private::CallGuard::#start(&__O11Y_SITE, #flags, &|| #make_span))
        }
    };
    let imports =
        quote!(#[allow(unused_imports)] use #krate::__private::{IsResult as _, NotResult as _};);

    if sig.asyncness.is_some() && returns_never(&sig.output) {
        // `async fn .. -> !`: the future never completes, so there is no
        // outcome to record but a panic or a drop, which the guard records.
        let start = start("start_async", quote!(#krate::__private::flags()));
        return quote! {{
            #site
            let __o11y_guard = #start;
            #krate::__private::CallGuard::run(__o11y_guard.as_ref(), async move #block).await
        }};
    }
    if sig.asyncness.is_some() {
        let inner = with_fake_return(block, &sig.output);
        let start = start("start_async", quote!(#krate::__private::flags()));
        let instrumented = async_body(args, names, &krate, &start, quote!(async move #inner));
        return quote!({ #imports #site #instrumented });
    }
    if let Some(returned) = returned_future(sig, block, &krate) {
        let future = &returned.future;
        let start = start("start_async", quote!(#krate::__private::flags()));
        let instrumented = async_body(args, names, &krate, &start, quote!(#future));
        return returned.wrap(TokenStream::new(), quote!(#imports #site #instrumented));
    }
    let inner = with_fake_return(block, &sig.output);
    let inner = if sig.unsafety.is_some() {
        // The body of an `unsafe fn` may use unsafe operations directly
        // (before edition 2024); the closure it now runs in must allow them too.
        quote!({ #[allow(unused_unsafe)] unsafe #inner })
    } else {
        quote!(#inner)
    };
    if returns_never(&sig.output) {
        // `-> !`: no return to record (a panic is, by the guard's drop); the
        // closure says `-> !` because nothing else tells its type.
        let inner = if sig.unsafety.is_some() {
            quote!({ #[allow(unused_unsafe)] unsafe #block })
        } else {
            quote!(#block)
        };
        let start = start("start", quote!(#krate::__private::flags()));
        return quote_spanned! {block.span()=>
            {
                #site
                let __o11y_guard = #start;
                #[allow(clippy::redundant_closure_call)]
                (move || -> ! #inner)()
            }
        };
    }
    // Spanned as where it is bound below, to resolve there.
    let result = quote_spanned!(block.span()=> __o11y_result);
    let events = result_events(args, &krate, &result, &names.function);
    let finish = finish_call(args, &krate, &result);
    let start = start("start", quote!(__o11y_flags));
    quote_spanned! {block.span()=>
        {
            #imports
            #site
            // Branches below test the flags word (in a register), not the
            // guard: reading back a `None` just written costs a
            // store-forwarding stall on the uninstrumented path. The guard
            // enters the span (if any) until it drops.
            let __o11y_flags = #krate::__private::flags();
            let mut __o11y_guard = #start;
            #[allow(clippy::let_unit_value)]
            let __o11y_result = #krate::__private::call_once(move || #inner);
            #events
            if __o11y_flags != 0 {
                // The guard records the call when it drops, below, in place.
                #finish;
            } else {
                // `None`: nothing to drop.
                ::core::mem::forget(__o11y_guard);
            }
            __o11y_result
        }
    }
}

fn async_body(
    args: &ObserveArgs,
    names: &Names,
    krate: &TokenStream,
    start: &TokenStream,
    future: TokenStream,
) -> TokenStream {
    let events = result_events(args, krate, &quote!(__o11y_inner), &names.function);
    // `err` / `ret` log inside the span: after the body, in the future the
    // guard polls. Without them the body's own future is polled.
    let future = if events.is_empty() {
        future
    } else {
        quote! {
            async move {
                let __o11y_inner = #future.await;
                #events
                __o11y_inner
            }
        }
    };
    let finish = finish_call(args, krate, &quote!(__o11y_result));
    quote! {
        let mut __o11y_guard = #start;
        let __o11y_result = #krate::__private::CallGuard::run(__o11y_guard.as_ref(), #future).await;
        #finish;
        __o11y_result
    }
}

/// How the guard learns the call's outcome from its returned value: its
/// error type, and with `err` the error itself, for the span's `exception`
/// event.
fn finish_call(args: &ObserveArgs, krate: &TokenStream, result: &TokenStream) -> TokenStream {
    let error_type = quote!((&#krate::__private::Check(&#result)).error_type());
    // Bound by the macro, at the call site: resolved there, not at `err`.
    let guard = quote!(__o11y_guard);
    let Some((key, _)) = &args.err else {
        return quote!(#krate::__private::CallGuard::finish(&mut #guard, #error_type));
    };
    let result = located_at(result, key);
    let LoggedError { setup, error } = if args.err_if_result {
        error_if_result(krate, &result, key)
    } else {
        error_of_result(krate, &result, key)
    };
    quote_spanned! {key.span()=>
        {
            #setup
            #krate::__private::CallGuard::finish_err(
                &mut #guard,
                #error_type,
                (#error).map(|error| error as &dyn ::core::fmt::Display),
            )
        }
    }
}

/// `tokens` as seen from `key`, so that an error about them points at
/// that argument, not at the whole attribute. Only the location moves: a
/// name still resolves where the macro bound it, which differs from the
/// argument's hygiene when the arguments come from a `macro_rules!` caller.
fn located_at(tokens: &TokenStream, key: &Ident) -> TokenStream {
    tokens
        .clone()
        .into_iter()
        .map(|mut token| {
            token.set_span(token.span().located_at(key.span()));
            token
        })
        .collect()
}

/// The call-site `static`: the function's names and options, and its span's
/// `tracing` metadata (name, level, where it is).
fn site_static(
    args: &ObserveArgs,
    sig: &Signature,
    names: &Names,
    krate: &TokenStream,
) -> TokenStream {
    let function = &names.function;
    let metrics = args.metrics_enabled();
    let span = args.span_enabled();
    let concurrency = args.concurrency.is_some();
    let span_for_logs =
        args.fields.as_ref().is_some_and(|(_, f)| !f.is_empty()) || args.args.is_some();
    let options = if metrics && span && !concurrency && !span_for_logs {
        quote!(#krate::__private::SiteOptions::DEFAULT)
    } else {
        quote! {
            #krate::__private::SiteOptions {
                metrics: #metrics,
                concurrency: #concurrency,
                span_for_logs: #span_for_logs,
                span: #span,
            }
        }
    };
    let level = span_level(args, krate);
    let name = span_name(args, sig, names);
    let objective = args
        .objective
        .as_ref()
        .map(|(_, objective)| objective.tokens(krate))
        .unwrap_or_default();
    let (in_impl, path_fn) = if names.in_impl {
        (
            quote!(.in_impl(__o11y_path)),
            quote! {
                fn __o11y_path() -> &'static str {
                    ::core::any::type_name_of_val(&__o11y_path)
                }
            },
        )
    } else {
        (TokenStream::new(), TokenStream::new())
    };
    quote! {
        static __O11Y_SITE: #krate::__private::FnSite = #krate::__private::FnSite::new(
            #function,
            ::core::module_path!(),
            #options,
            #name,
            #level,
            ::core::file!(),
            ::core::line!(),
            &__O11Y_SITE,
        )#in_impl #objective;
        #path_fn
        #krate::__private::list_site!(__O11Y_SITE);
    }
}

fn span_level(args: &ObserveArgs, krate: &TokenStream) -> TokenStream {
    args.level
        .as_ref()
        .map_or(Level::Info, |(_, level)| *level)
        .tokens(krate)
}

/// The span's name: `name = ".."`, `Type::method`, or `module::function`.
fn span_name(args: &ObserveArgs, sig: &Signature, names: &Names) -> TokenStream {
    match (&args.name, &names.self_type) {
        (Some((_, name)), _) => quote!(#name),
        (None, Some(self_type)) => {
            let name = format!("{self_type}::{}", sig.ident);
            quote!(#name)
        }
        (None, None) => {
            let ident = sig.ident.to_string();
            quote!(::core::concat!(::core::module_path!(), "::", #ident))
        }
    }
}

/// `tracing::span!(...)` for a function whose span has fields.
fn span_expr(
    args: &ObserveArgs,
    sig: &Signature,
    names: &Names,
    krate: &TokenStream,
    fields: &[TokenStream],
) -> TokenStream {
    let level = span_level(args, krate);
    let name = span_name(args, sig, names);
    quote! {
        #krate::__private::tracing::span!(target: ::core::module_path!(), #level, #name #(, #fields)*)
    }
}

/// The span fields of `fields(...)` and `args(...)`, as `name = value` tokens.
pub(crate) fn span_fields(
    args: &ObserveArgs,
    sig: &Signature,
    krate: &TokenStream,
) -> Vec<TokenStream> {
    let mut fields = Vec::new();
    let params = typed_params(sig);
    if let Some((_, list)) = &args.fields {
        for field in list {
            if field.shorthand {
                let name = &field.name[0];
                if let Some((param, ty)) = params.iter().find(|(param, _)| param == name) {
                    fields.push(arg_field(param, *ty));
                }
                continue;
            }
            let field_name = field_name(field);
            let value = field_value(field, krate);
            fields.push(quote!(#field_name = #value));
        }
    }
    if let Some((_, selection)) = &args.args {
        let skipped: Vec<Ident> = match &args.skip {
            Some((_, SkipSelection::Params(names))) => names.clone(),
            _ => Vec::new(),
        };
        for (param, ty) in params {
            let wanted = match selection {
                ArgsSelection::All => param != "self" && !skipped.contains(&param),
                ArgsSelection::Listed(listed) => listed.contains(&param),
            };
            if wanted {
                fields.push(arg_field(&param, ty));
            }
        }
    }
    fields
}

fn typed_params(sig: &Signature) -> Vec<(Ident, Option<&Type>)> {
    let mut params = Vec::new();
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(receiver) => {
                params.push((Ident::new("self", receiver.self_token.span), None))
            }
            FnArg::Typed(typed) if is_configured(&typed.attrs) => {}
            FnArg::Typed(typed) => match &*typed.pat {
                Pat::Ident(ident) => params.push((ident.ident.clone(), Some(&*typed.ty))),
                pat => {
                    let mut names = Vec::new();
                    collect_bindings(pat, &mut names);
                    params.extend(names.into_iter().map(|name| (name, None)));
                }
            },
        }
    }
    params
}

/// A field's value, converted here rather than by `tracing`'s `%` / `?`
/// sigils, with the user's spans: `format_args!` reports a value that is
/// not `Display` / `Debug` at that value (once), and what reaches
/// `tracing`'s macros is always well-typed, so no error lands on the whole
/// attribute. Recorded the same way as `%` / `?` would.
fn field_value(field: &Field, krate: &TokenStream) -> TokenStream {
    let value = &field.value;
    let span = value.span();
    match &field.sigil {
        Sigil::Value => {
            quote_spanned!(span=> (&(#value) as &dyn #krate::__private::tracing::Value))
        }
        Sigil::Display => quote_spanned!(span=> ::core::format_args!("{}", #value)),
        Sigil::Debug => quote_spanned!(span=> ::core::format_args!("{:?}", #value)),
    }
}

/// Numbers and booleans are recorded as such, text with `Display`, the rest
/// with `Debug` (a parameter that is not `Debug` is reported at itself).
fn arg_field(param: &Ident, ty: Option<&Type>) -> TokenStream {
    let key = if param == "self" {
        format_ident!("self_")
    } else {
        param.clone()
    };
    let as_text = |t: &Type| quote!(#t).to_string().replace(' ', "");
    let span = param.span();
    match ty.map(as_text).as_deref() {
        Some(
            "i8" | "i16" | "i32" | "i64" | "isize" | "u8" | "u16" | "u32" | "u64" | "usize" | "f32"
            | "f64" | "bool",
        ) => quote!(#key = #param),
        Some("&str" | "String" | "&String" | "char") => {
            quote_spanned!(span=> #key = ::core::format_args!("{}", #param))
        }
        _ => quote_spanned!(span=> #key = ::core::format_args!("{:?}", #param)),
    }
}

/// `err` and `ret` events, emitted inside the span.
pub(crate) fn result_events(
    args: &ObserveArgs,
    krate: &TokenStream,
    result: &TokenStream,
    function: &str,
) -> TokenStream {
    let failed = format!("{function} failed");
    let returned = format!("{function} returned");
    let mut events = TokenStream::new();
    if let Some((key, level)) = &args.err {
        let level = level.unwrap_or(Level::Error).tokens(krate);
        let result = located_at(result, key);
        let LoggedError { setup, error } = if args.err_if_result {
            error_if_result(krate, &result, key)
        } else {
            error_of_result(krate, &result, key)
        };
        let sources = error_sources(krate, &result);
        events.extend(quote_spanned! {key.span()=>
            {
                #setup
                if let ::core::option::Option::Some(error) = #error {
                    #krate::__private::tracing::event!(
                        target: ::core::module_path!(), #level,
                        error = %error, error.sources = #sources, #failed
                    );
                }
            }
        });
    }
    if let Some((key, level)) = &args.ret {
        let level = level.unwrap_or(Level::Info).tokens(krate);
        let result = located_at(result, key);
        let value = quote_spanned!(key.span()=> ::core::format_args!("{:?}", #result));
        events.extend(quote_spanned! {key.span()=>
            #krate::__private::tracing::event!(target: ::core::module_path!(), #level, r#return = #value, #returned);
        });
    }
    events
}

/// The `source()` chain of `result`'s error, as `Option<String>`: found
/// through `__private::Sources` for a `std::error::Error` (or what holds a
/// `dyn Error`, as `anyhow::Error`), `None` for an error that is only
/// `Display`.
pub(crate) fn error_sources(krate: &TokenStream, result: &TokenStream) -> TokenStream {
    quote! {{
        #[allow(unused_imports)]
        use #krate::__private::{
            NoSources as _, SourcesOfError as _, SourcesOfLocalError as _,
            SourcesOfSharedError as _,
        };
        (&&&#krate::__private::Sources(&#result)).error_sources()
    }}
}

/// How an `err` event finds the error to log: items it needs first, then
/// an expression giving `Option<&impl Display>`.
struct LoggedError {
    setup: TokenStream,
    error: TokenStream,
}

/// The error of a function's `err`, through the one `ObservedResult` trait
/// of `__private`: a function that does not return a `Result` with a
/// `Display` error gets an error that says so, at `err`.
fn error_of_result(krate: &TokenStream, result: &TokenStream, key: &Ident) -> LoggedError {
    // The whole call at `err`, the path to o11y included: an error about
    // the bound then points there only, not at the whole attribute.
    let krate: TokenStream = krate
        .clone()
        .into_iter()
        .map(|mut token| {
            token.set_span(token.span().located_at(key.span()));
            token
        })
        .collect();
    let error =
        quote_spanned!(key.span()=> #krate::__private::ObservedResult::logged_error(&#result));
    LoggedError {
        setup: TokenStream::new(),
        error,
    }
}

/// The error of the `err` an impl block gives each of its methods: the
/// returned type decides, by autoref as for the outcome, so that a method
/// returning a `Result` under any name (an alias, `io::Result`) logs its
/// error and one returning anything else (a `SearchResult` struct) logs
/// nothing.
fn error_if_result(krate: &TokenStream, result: &TokenStream, key: &Ident) -> LoggedError {
    let setup = quote_spanned! {key.span()=>
        #[allow(unused_imports)]
        use #krate::__private::{HasError as _, NoError as _};
    };
    let error = quote_spanned!(key.span()=> (&#krate::__private::Check(&#result)).logged_error());
    LoggedError { setup, error }
}

/// `-> !`: a type that cannot be written in a `let` on stable Rust.
pub(crate) fn returns_never(output: &ReturnType) -> bool {
    matches!(output, ReturnType::Type(_, ty) if matches!(**ty, Type::Never(_)))
}

/// The body with an unreachable `return` of the declared type first, so
/// `?` and `return` inside infer that type (`impl Trait` parts as `_`), as
/// tracing-attributes does.
pub(crate) fn with_fake_return(block: &Block, output: &ReturnType) -> TokenStream {
    let (return_type, span) = match output {
        ReturnType::Type(_, ty) => {
            let mut ty = (**ty).clone();
            EraseImplTrait.visit_type_mut(&mut ty);
            (quote!(#ty), ty.span())
        }
        ReturnType::Default => (quote!(()), Span::call_site()),
    };
    let fake = quote_spanned! {span=>
        #[allow(
            unknown_lints, unreachable_code, clippy::diverging_sub_expression,
            clippy::empty_loop, clippy::let_unit_value, clippy::let_with_type_underscore,
            clippy::needless_return, clippy::unreachable
        )]
        if false {
            let __o11y_fake_return: #return_type = loop {};
            return __o11y_fake_return;
        }
    };
    let stmts = &block.stmts;
    quote!({ #fake #(#stmts)* })
}

struct EraseImplTrait;

impl VisitMut for EraseImplTrait {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        if let Type::ImplTrait(impl_trait) = ty {
            *ty = Type::Infer(syn::TypeInfer {
                underscore_token: syn::Token![_](impl_trait.impl_token.span),
            });
        } else {
            syn::visit_mut::visit_type_mut(self, ty);
        }
    }
}

/// The future a non-`async` function returns when that future is the
/// work, to instrument instead of the call that only creates it.
pub(crate) struct ReturnedFuture<'a> {
    /// Run at the call, outside the span, as tracing-attributes does: they
    /// only prepare what the future takes.
    before: Before<'a>,
    /// The future to instrument, an expression.
    pub(crate) future: TokenStream,
    boxed: bool,
    /// Where o11y is, for `call_once`.
    krate: TokenStream,
}

/// What runs at the call, before the future is instrumented.
enum Before<'a> {
    /// The statements before a tail `async move` block.
    Statements(&'a [Stmt]),
    /// The whole body, which builds the future some other way (calls an
    /// `async fn`, picks one of two futures): run as a closure, as a sync
    /// body is, into `__o11y_returned`.
    Body(TokenStream),
}

impl ReturnedFuture<'_> {
    /// The new body: `first`, then `instrumented` (which ends in the
    /// future's output) in an `async move` where the future was, boxed
    /// again if it was.
    pub(crate) fn wrap(&self, first: TokenStream, instrumented: TokenStream) -> TokenStream {
        let before = match &self.before {
            Before::Statements(statements) => quote!(#(#statements)*),
            Before::Body(inner) => {
                let krate = &self.krate;
                quote! {
                    let __o11y_returned = #krate::__private::call_once(move || #inner);
                }
            }
        };
        let future = quote!(async move { #instrumented });
        if self.boxed {
            quote!({ #first #before ::std::boxed::Box::pin(#future) })
        } else {
            quote!({ #first #before #future })
        }
    }
}

/// The future a non-`async` function returns: `Box::pin(async move { .. })`
/// as the whole body (what `#[async_trait]` generates), an `async move {
/// .. }` ending a function that returns `impl Future`, or whatever else the
/// body of a function returning `impl Future` or `Pin<Box<dyn Future>>`
/// evaluates to.
pub(crate) fn returned_future<'a>(
    sig: &Signature,
    block: &'a Block,
    krate: &TokenStream,
) -> Option<ReturnedFuture<'a>> {
    if sig.asyncness.is_some() {
        return None;
    }
    if let Some(future) = async_trait_future(block) {
        return Some(ReturnedFuture {
            before: Before::Statements(&[]),
            future: quote!(#future),
            boxed: true,
            krate: krate.clone(),
        });
    }
    let impl_future = returns_impl_future(&sig.output);
    if impl_future
        && let Some((Stmt::Expr(Expr::Async(future), None), before)) = block.stmts.split_last()
        && future.capture.is_some()
    {
        return Some(ReturnedFuture {
            before: Before::Statements(before),
            future: quote!(#future),
            boxed: false,
            krate: krate.clone(),
        });
    }
    let boxed = returns_boxed_future(&sig.output);
    if !impl_future && !boxed {
        return None;
    }
    let inner = with_fake_return(block, &sig.output);
    let inner = if sig.unsafety.is_some() {
        quote!({ #[allow(unused_unsafe)] unsafe #inner })
    } else {
        inner
    };
    Some(ReturnedFuture {
        before: Before::Body(inner),
        future: quote!(__o11y_returned),
        boxed,
        krate: krate.clone(),
    })
}

/// `Pin<Box<dyn Future<..> + ..>>`, whatever the paths are written as.
fn returns_boxed_future(output: &ReturnType) -> bool {
    let ReturnType::Type(_, ty) = output else {
        return false;
    };
    let Some(pinned) = sole_generic_of(ty, "Pin") else {
        return false;
    };
    let Some(Type::TraitObject(object)) = sole_generic_of(pinned, "Box") else {
        return false;
    };
    object.bounds.iter().any(|bound| {
        matches!(bound, syn::TypeParamBound::Trait(bound)
            if bound.path.segments.last().is_some_and(|s| s.ident == "Future"))
    })
}

/// `T` of a type written `..::Name<T>`.
fn sole_generic_of<'t>(ty: &'t Type, name: &str) -> Option<&'t Type> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident != name {
        return None;
    }
    let syn::PathArguments::AngleBracketed(generics) = &last.arguments else {
        return None;
    };
    match generics.args.iter().collect::<Vec<_>>().as_slice() {
        [syn::GenericArgument::Type(inner)] => Some(inner),
        _ => None,
    }
}

fn returns_impl_future(output: &ReturnType) -> bool {
    let ReturnType::Type(_, ty) = output else {
        return false;
    };
    let Type::ImplTrait(impl_trait) = &**ty else {
        return false;
    };
    impl_trait.bounds.iter().any(|bound| {
        matches!(bound, syn::TypeParamBound::Trait(bound)
            if bound.path.segments.last().is_some_and(|s| s.ident == "Future"))
    })
}

/// `Box::pin(async move { .. })` as the whole body: what `#[async_trait]` generates.
fn async_trait_future(block: &Block) -> Option<&syn::ExprAsync> {
    let [Stmt::Expr(Expr::Call(call), None)] = block.stmts.as_slice() else {
        return None;
    };
    let Expr::Path(path) = &*call.func else {
        return None;
    };
    let segments: Vec<String> = path
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    if !segments.ends_with(&["Box".to_owned(), "pin".to_owned()]) || call.args.len() != 1 {
        return None;
    }
    match call.args.first() {
        Some(Expr::Async(future)) if future.capture.is_some() => Some(future),
        _ => None,
    }
}
