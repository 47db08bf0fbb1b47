//! Code generation for `#[metric]`: the static, its link-time registration,
//! and for labelled metrics a wrapper type whose `labels(..)` method has one
//! parameter per label name, so a wrong number of labels is a compile error
//! at the call site, and whose methods of a series (`inc`, `observe`…) are
//! compile errors saying to call `labels(..)` first (the runtime's
//! `metrics::labels_first`).

use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, ExprUnary, Lit, Type, UnOp};

use super::args::{Declaration, Kind, MetricArgs};
use super::naming;
use crate::common::krate;

/// Checks everything that can be checked at compile time, then expands.
/// Every problem is reported, each at its token; with any, the static is
/// still declared (unregistered, see [`fallback`]) so that its uses do not
/// add errors of their own.
pub(crate) fn expand(args: &MetricArgs, declaration: &Declaration) -> TokenStream {
    let mut errors = args.errors.clone();
    let mut push = |error: syn::Error| match &mut errors {
        Some(all) => all.combine(error),
        None => errors = Some(error),
    };
    let (kind_ident, kind) = &args.kind;
    if let Err(error) = check_type(*kind, &declaration.ty) {
        push(error);
    }
    let name = metric_name(args, declaration);
    match &args.help {
        Some((_, help)) => {
            if let Err(e) = naming::validate_help(&name, &help.value()) {
                push(syn::Error::new_spanned(help, e));
            }
        }
        None => push(syn::Error::new_spanned(
            kind_ident,
            "a metric needs `help = \"...\"`: one line saying what it measures (the `# HELP` line)",
        )),
    }

    // A name taken from the static is reported at the static's name.
    let name_token = args.name.as_ref().map_or_else(
        || declaration.ident.to_token_stream(),
        |(_, lit)| quote!(#lit),
    );
    let unit = args.unit.as_ref().map(|(_, unit)| unit.value());
    let naming_kind = match kind {
        Kind::Counter => naming::Kind::Counter,
        Kind::Gauge => naming::Kind::Gauge,
        Kind::Histogram => naming::Kind::Histogram,
    };
    if let Err(e) = naming::validate_name(naming_kind, &name, unit.as_deref()) {
        let hint = if args.name.is_none() {
            "; the name comes from the static's name: set `name = \"...\"` to choose another"
        } else {
            ""
        };
        push(syn::Error::new_spanned(&name_token, format!("{e}{hint}")));
    }

    let labels: Vec<&syn::Ident> = args
        .labels
        .as_ref()
        .map(|(_, l)| l.iter().collect())
        .unwrap_or_default();
    let label_names: Vec<String> = labels.iter().map(|l| l.unraw().to_string()).collect();
    for (i, label) in labels.iter().enumerate() {
        if let Err(e) = naming::validate_label(&name, &label_names[i]) {
            push(syn::Error::new_spanned(label, e));
        } else if label_names[..i].contains(&label_names[i]) {
            push(syn::Error::new_spanned(
                label,
                format!("label `{}` is given twice", label_names[i]),
            ));
        }
    }
    if let Some((key, labels)) = &args.labels
        && labels.is_empty()
    {
        push(syn::Error::new_spanned(
            key,
            "`labels()` is empty: remove it for a metric without labels",
        ));
    }

    let buckets = match (&args.buckets, kind) {
        (Some((key, _)), Kind::Counter | Kind::Gauge) => {
            push(syn::Error::new_spanned(
                key,
                format!("`buckets` is for histograms, not a {}", kind.as_str()),
            ));
            None
        }
        (Some((_, array)), Kind::Histogram) => bucket_values(array, &name).map_err(&mut push).ok(),
        (None, _) => None,
    };
    let series_cap = match &args.series_cap {
        Some((_, cap)) => match cap.base10_parse::<usize>() {
            Ok(0) => {
                push(syn::Error::new_spanned(
                    cap,
                    "`series_cap` must be at least 1",
                ));
                None
            }
            Ok(_) if labels.is_empty() => {
                push(syn::Error::new_spanned(
                    cap,
                    "`series_cap` limits label sets: this metric has no labels",
                ));
                None
            }
            Ok(value) => Some(value),
            Err(error) => {
                push(error);
                None
            }
        },
        None => None,
    };

    let exemplars = match (&args.exemplars, kind) {
        (Some((key, _)), Kind::Gauge) => {
            push(syn::Error::new_spanned(
                key,
                "`exemplars` is for counters and histograms: a gauge has no exemplars",
            ));
            None
        }
        (Some((_, on)), _) => Some(on.value),
        (None, _) => None,
    };

    let krate = krate(&args.krate);
    if let Some(errors) = errors {
        let errors = errors.to_compile_error();
        let fallback = fallback(
            *kind,
            &labels,
            args.labels.as_ref().map(|(key, _)| key),
            declaration,
            &krate,
        );
        return quote!(#errors #fallback);
    }
    let help = args
        .help
        .as_ref()
        .map(|(_, help)| help.value())
        .unwrap_or_default();
    let constructor = format_ident!("{}", kind.as_str());
    let mut desc = quote!(#krate::metrics::MetricDesc::#constructor(#name, #help));
    if let Some(unit) = &unit {
        desc = quote!(#desc.unit(#unit));
    }
    if !labels.is_empty() {
        desc = quote!(#desc.labels(&[#(#label_names),*]));
    }
    if let Some(buckets) = &buckets {
        desc = quote!(#desc.buckets(&[#(#buckets),*]));
    }
    if let Some(cap) = series_cap {
        desc = quote!(#desc.series_cap(#cap));
    }
    if exemplars == Some(false) {
        desc = quote!(#desc.exemplars(false));
    }
    let labels_key = args.labels.as_ref().map(|(key, _)| key);
    declare(
        declaration,
        *kind,
        &labels,
        desc,
        &krate,
        !cfg!(feature = "off"),
        labels_key,
    )
}

/// The static of a declaration that has errors: same type and `labels(..)`
/// as it would have, not registered, so only the errors are reported.
pub(crate) fn fallback(
    kind: Kind,
    labels: &[&syn::Ident],
    labels_key: Option<&syn::Ident>,
    declaration: &Declaration,
    krate: &TokenStream,
) -> TokenStream {
    // The declared type wins: its uses are checked against it.
    let kind = super::args::kind_of_type(&declaration.ty).unwrap_or(kind);
    let constructor = format_ident!("{}", kind.as_str());
    // A label given twice still makes one parameter each.
    let params: Vec<syn::Ident> = labels
        .iter()
        .enumerate()
        .map(|(i, label)| {
            if labels[..i].iter().any(|l| l == label) {
                format_ident!("{}_{}", label, i, span = label.span())
            } else {
                (*label).clone()
            }
        })
        .collect();
    let params: Vec<&syn::Ident> = params.iter().collect();
    let label_names: Vec<String> = params.iter().map(|p| p.unraw().to_string()).collect();
    let mut desc = quote!(#krate::metrics::MetricDesc::#constructor("", ""));
    if !labels.is_empty() {
        desc = quote!(#desc.labels(&[#(#label_names),*]));
    }
    declare(declaration, kind, &params, desc, krate, false, labels_key)
}

/// The declared type must be the runtime type of the kind (`o11y::Counter`
/// for `counter`), whatever path leads to it.
fn check_type(kind: Kind, ty: &Type) -> syn::Result<()> {
    let last = match ty {
        Type::Path(path) => path.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    };
    if last.as_deref() == Some(kind.type_name()) {
        return Ok(());
    }
    // `CounterVec<2>` and the like: the labels are the attribute's.
    let hint = if last.as_deref().is_some_and(|name| name.ends_with("Vec")) {
        "; labels go in `labels(...)`, not in the type"
    } else {
        ""
    };
    Err(syn::Error::new_spanned(
        ty,
        format!(
            "a {} is declared as `o11y::{}`, not `{}`{hint}",
            kind.as_str(),
            kind.type_name(),
            ty.to_token_stream().to_string().replace(' ', "")
        ),
    ))
}

/// `name = "..."`, or the static's name in snake case, with `_total` added to counters.
fn metric_name(args: &MetricArgs, declaration: &Declaration) -> String {
    if let Some((_, name)) = &args.name {
        return name.value();
    }
    let name = declaration.ident.to_string().to_lowercase();
    if args.kind.1 == Kind::Counter && !name.ends_with("_total") {
        format!("{name}_total")
    } else {
        name
    }
}

fn bucket_values(array: &syn::ExprArray, name: &str) -> syn::Result<Vec<f64>> {
    let mut values: Vec<f64> = Vec::with_capacity(array.elems.len());
    for element in &array.elems {
        let value = number(element)?;
        // The first bound out of order is pointed at, not the whole array.
        if !value.is_finite() {
            return Err(syn::Error::new_spanned(
                element,
                format!(
                    "bucket bound `{value}` of histogram `{name}` is not finite (`+Inf` is implied)"
                ),
            ));
        }
        if let Some(previous) = values.last()
            && value <= *previous
        {
            return Err(syn::Error::new_spanned(
                element,
                format!(
                    "the buckets of histogram `{name}` must be strictly increasing: `{value}` comes after `{previous}`"
                ),
            ));
        }
        values.push(value);
    }
    naming::validate_buckets(name, &values).map_err(|e| syn::Error::new_spanned(array, e))?;
    Ok(values)
}

fn number(expr: &Expr) -> syn::Result<f64> {
    let (negative, literal) = match expr {
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_),
            expr,
            ..
        }) => (true, &**expr),
        other => (false, other),
    };
    let value = match literal {
        Expr::Lit(ExprLit {
            lit: Lit::Float(float),
            ..
        }) => float.base10_parse::<f64>()?,
        Expr::Lit(ExprLit {
            lit: Lit::Int(int), ..
        }) => int.base10_parse::<f64>()?,
        other => {
            return Err(syn::Error::new_spanned(
                other,
                "a bucket bound is a number literal",
            ));
        }
    };
    Ok(if negative { -value } else { value })
}

fn declare(
    declaration: &Declaration,
    kind: Kind,
    labels: &[&syn::Ident],
    desc: TokenStream,
    krate: &TokenStream,
    register: bool,
    labels_key: Option<&syn::Ident>,
) -> TokenStream {
    let Declaration {
        attrs,
        vis,
        static_token,
        ident,
        ty,
    } = declaration;
    let register = if register {
        quote!(#krate::register_metric!(#ident);)
    } else {
        TokenStream::new()
    };
    // The declared type is named in the expansion, so that an import of it
    // (`use o11y::Counter;`) is used.
    let mention_type = quote_spanned! {ty.span()=>
        const _: ::core::marker::PhantomData<#ty> = ::core::marker::PhantomData;
    };
    if labels.is_empty() {
        let runtime_type = format_ident!("{}", kind.type_name());
        return quote_spanned! {ty.span()=>
            #(#attrs)*
            #vis #static_token #ident: #krate::metrics::#runtime_type = #krate::metrics::#runtime_type::new(#desc);
            #mention_type
            #register
        };
    }
    let arity = labels.len();
    // `labels` and its parameters carry the spans of the attribute's
    // `labels(status, method)`, where a call's errors then point ("method
    // defined here", "required by a bound in `PAYMENTS::labels`").
    let labels_fn = syn::Ident::new(
        "labels",
        labels_key.map_or_else(proc_macro2::Span::call_site, syn::Ident::span),
    );
    let params = labels.iter().map(|label| {
        let krate: TokenStream = krate
            .clone()
            .into_iter()
            .map(|mut token| {
                token.set_span(label.span());
                token
            })
            .collect();
        quote_spanned!(label.span()=> #label: impl #krate::metrics::LabelValue)
    });
    let (vec_type, handle) = match kind {
        Kind::Counter => (format_ident!("CounterVec"), format_ident!("CounterHandle")),
        Kind::Gauge => (format_ident!("GaugeVec"), format_ident!("GaugeHandle")),
        Kind::Histogram => (
            format_ident!("HistogramVec"),
            format_ident!("HistogramHandle"),
        ),
    };
    // The wrapper type is named as the static (types and values do not
    // clash), so that errors at a call of `labels(..)` read `PAYMENTS::labels`.
    let wrapper = ident;
    let series_methods = series_methods(kind, vis, krate);
    let doc = format!(
        "The series of `{ident}` with these label values, created on first use. Keep the handle: \
         recording through it is one atomic operation."
    );
    quote! {
        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #vis struct #wrapper {
            series: #krate::metrics::#vec_type<#arity>,
        }

        impl #wrapper {
            #[doc = #doc]
            #vis fn #labels_fn(&self, #(#params),*) -> #krate::metrics::#handle {
                self.series.labels([#(&*#labels.label_value()),*])
            }

            /// How many label sets this metric keeps.
            #vis fn series_count(&self) -> usize {
                self.series.series_count()
            }

            #series_methods
        }

        impl #krate::metrics::Metric for #wrapper {
            fn desc(&self) -> &#krate::metrics::MetricDesc {
                #krate::metrics::Metric::desc(&self.series)
            }
            fn visit(&self, f: &mut dyn FnMut(&[&str], #krate::metrics::SeriesValue<'_>)) {
                #krate::metrics::Metric::visit(&self.series, f)
            }
        }

        #(#attrs)*
        #vis #static_token #ident: #wrapper = #wrapper { series: #krate::metrics::#vec_type::new(#desc) };
        #mention_type
        #register
    }
}

/// The methods of one series (`inc`, `observe`…) on a labelled metric's
/// wrapper, none callable: each is bound by the runtime's
/// `RecordsWithoutLabels`, which no type implements and whose error says to
/// call `labels(..)` first (see the runtime's `metrics::labels_first`).
fn series_methods(kind: Kind, vis: &syn::Visibility, krate: &TokenStream) -> TokenStream {
    let none = TokenStream::new();
    let methods: Vec<(&str, TokenStream, TokenStream)> = match kind {
        Kind::Counter => vec![
            ("inc", quote!(), none.clone()),
            ("inc_by", quote!(_n: u64), none.clone()),
            ("inc_by_with_exemplar", quote!(_n: u64), none),
            ("get", quote!(), quote!(-> u64)),
        ],
        Kind::Gauge => vec![
            ("set", quote!(_value: f64), none.clone()),
            ("add", quote!(_delta: f64), none.clone()),
            ("inc", quote!(), none.clone()),
            ("dec", quote!(), none),
            ("get", quote!(), quote!(-> f64)),
        ],
        Kind::Histogram => vec![
            ("observe", quote!(_value: f64), none.clone()),
            ("observe_with_exemplar", quote!(_value: f64), none),
            (
                "start_timer",
                quote!(),
                quote!(-> #krate::metrics::HistogramTimer<'a>),
            ),
            (
                "snapshot",
                quote!(),
                quote!(-> #krate::metrics::HistogramSnapshot),
            ),
        ],
    };
    methods
        .into_iter()
        .map(|(name, params, ret)| {
            let name = format_ident!("{name}");
            quote! {
                #[doc(hidden)]
                #vis fn #name<'a>(&'a self, #params) #ret
                where
                    Self: #krate::metrics::labels_first::RecordsWithoutLabels<'a>,
                {
                    ::core::unreachable!("RecordsWithoutLabels has no implementation")
                }
            }
        })
        .collect()
}
