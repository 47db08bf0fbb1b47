//! The arguments of `#[metric(...)]`, parsed into [`MetricArgs`], and the
//! declaration it goes on (`static NAME: o11y::Counter;`).

use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{
    Attribute, Expr, ExprArray, Ident, LitBool, LitInt, LitStr, Path, Token, Type, Visibility,
    parenthesized,
};

use crate::common::{did_you_mean, duplicate};

const ARGUMENTS: [&str; 8] = [
    "help",
    "labels",
    "name",
    "unit",
    "buckets",
    "series_cap",
    "exemplars",
    "crate",
];
const KINDS: [&str; 3] = ["counter", "gauge", "histogram"];

/// The metric type named first in the attribute.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }

    /// The runtime type a declaration of this kind must name.
    pub(crate) fn type_name(self) -> &'static str {
        match self {
            Kind::Counter => "Counter",
            Kind::Gauge => "Gauge",
            Kind::Histogram => "Histogram",
        }
    }
}

/// The kind a declared type names (`o11y::Counter` is a counter).
pub(crate) fn kind_of_type(ty: &Type) -> Option<Kind> {
    let Type::Path(path) = ty else { return None };
    match path.path.segments.last()?.ident.to_string().as_str() {
        "Counter" => Some(Kind::Counter),
        "Gauge" => Some(Kind::Gauge),
        "Histogram" => Some(Kind::Histogram),
        _ => None,
    }
}

/// Parsed `#[metric(...)]` arguments, each with the token it came from.
pub(crate) struct MetricArgs {
    pub(crate) kind: (Ident, Kind),
    pub(crate) help: Option<(Ident, LitStr)>,
    pub(crate) labels: Option<(Ident, Vec<Ident>)>,
    pub(crate) name: Option<(Ident, LitStr)>,
    pub(crate) unit: Option<(Ident, LitStr)>,
    pub(crate) buckets: Option<(Ident, ExprArray)>,
    pub(crate) series_cap: Option<(Ident, LitInt)>,
    pub(crate) exemplars: Option<(Ident, LitBool)>,
    pub(crate) krate: Option<Path>,
    /// Mistakes in arguments after the type, all reported.
    pub(crate) errors: Option<syn::Error>,
}

fn set<T>(slot: &mut Option<T>, ident: &Ident, value: T) -> syn::Result<()> {
    if slot.is_some() {
        return Err(duplicate(ident));
    }
    *slot = Some(value);
    Ok(())
}

fn value<T: Parse>(input: ParseStream<'_>, key: &Ident, what: &str) -> syn::Result<T> {
    input.parse::<Token![=]>().map_err(|_| {
        syn::Error::new_spanned(key, format!("`{key}` takes a value: `{key} = {what}`"))
    })?;
    input
        .parse::<T>()
        .map_err(|e| syn::Error::new(e.span(), format!("`{key}` takes {what}")))
}

impl Parse for MetricArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.is_empty() {
            return Err(syn::Error::new(
                proc_macro2::Span::call_site(),
                "#[metric] needs the metric type first: `#[metric(counter, help = \"...\")]` \
                 (counter, gauge or histogram)",
            ));
        }
        let kind_ident: Ident = input.parse()?;
        let kind = match kind_ident.to_string().as_str() {
            "counter" => Kind::Counter,
            "gauge" => Kind::Gauge,
            "histogram" => Kind::Histogram,
            other if ARGUMENTS.contains(&other) => {
                return Err(syn::Error::new_spanned(
                    &kind_ident,
                    format!(
                        "#[metric] needs the metric type before `{other}`: \
                         `#[metric(counter, ...)]` (counter, gauge or histogram)"
                    ),
                ));
            }
            "summary" => {
                return Err(syn::Error::new_spanned(
                    &kind_ident,
                    "#[metric] offers no summary: use a `histogram`, whose buckets aggregate across \
                     instances (quantiles are computed at query time)",
                ));
            }
            other => {
                let hint = did_you_mean(other, &KINDS);
                return Err(syn::Error::new_spanned(
                    &kind_ident,
                    format!(
                        "#[metric] starts with the metric type: counter, gauge or histogram, not `{other}`{hint}"
                    ),
                ));
            }
        };
        let mut args = MetricArgs {
            kind: (kind_ident, kind),
            help: None,
            labels: None,
            name: None,
            unit: None,
            buckets: None,
            series_cap: None,
            exemplars: None,
            krate: None,
            errors: None,
        };
        while !input.is_empty() {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break;
            }
            // An error in one argument is kept and the next one parsed, so
            // every mistake is reported and the declaration can still be
            // made (see `metric::fallback`).
            if let Err(error) = argument(input, &mut args) {
                match &mut args.errors {
                    Some(errors) => errors.combine(error),
                    None => args.errors = Some(error),
                }
                while !input.is_empty() && !input.peek(Token![,]) {
                    input.parse::<proc_macro2::TokenTree>()?;
                }
            }
        }
        Ok(args)
    }
}

fn argument(input: ParseStream<'_>, args: &mut MetricArgs) -> syn::Result<()> {
    if input.peek(Token![crate]) {
        let token: Token![crate] = input.parse()?;
        input.parse::<Token![=]>()?;
        let path = input.parse()?;
        if args.krate.is_some() {
            return Err(syn::Error::new_spanned(token, "`crate` is given twice"));
        }
        args.krate = Some(path);
        return Ok(());
    }
    let key: Ident = input.parse()?;
    match key.to_string().as_str() {
        "help" => {
            let help = value(input, &key, "a string literal")?;
            set(&mut args.help, &key, (key.clone(), help))
        }
        "name" => {
            let name = value(input, &key, "a string literal")?;
            set(&mut args.name, &key, (key.clone(), name))
        }
        "unit" => {
            let unit = value(input, &key, "a string literal, e.g. \"seconds\"")?;
            set(&mut args.unit, &key, (key.clone(), unit))
        }
        "buckets" => {
            let buckets = value(input, &key, "an array of numbers, e.g. [0.1, 0.5, 1.0]")?;
            set(&mut args.buckets, &key, (key.clone(), buckets))
        }
        "series_cap" => {
            let cap = value(input, &key, "a whole number")?;
            set(&mut args.series_cap, &key, (key.clone(), cap))
        }
        "exemplars" => {
            let on = value(input, &key, "`true` or `false`")?;
            set(&mut args.exemplars, &key, (key.clone(), on))
        }
        "labels" => {
            if !input.peek(syn::token::Paren) {
                return Err(syn::Error::new_spanned(
                    &key,
                    "`labels` lists the label names: `labels(status, method)`",
                ));
            }
            let content;
            parenthesized!(content in input);
            let labels = Punctuated::<Ident, Token![,]>::parse_terminated_with(&content, label)?;
            set(
                &mut args.labels,
                &key,
                (key.clone(), labels.into_iter().collect()),
            )
        }
        "counter" | "gauge" | "histogram" => Err(syn::Error::new_spanned(
            &key,
            format!(
                "the metric type is already `{}`; a metric has one type",
                args.kind.1.as_str()
            ),
        )),
        other => {
            let hint = did_you_mean(other, &ARGUMENTS);
            Err(syn::Error::new_spanned(
                &key,
                format!(
                    "unknown argument `{other}` of #[metric]{hint}\n\
                     expected: help, labels, name, unit, buckets, series_cap, exemplars, crate"
                ),
            ))
        }
    }
}

/// A label name: any identifier, keywords included (`type` is a common
/// label), as the parameter of `labels(..)` it becomes: raw (`r#type`) when
/// it is a keyword.
fn label(input: ParseStream) -> syn::Result<Ident> {
    let ident = Ident::parse_any(input)?.unraw();
    let name = ident.to_string();
    if syn::parse_str::<Ident>(&name).is_ok() {
        return Ok(ident);
    }
    if matches!(name.as_str(), "self" | "Self" | "super" | "crate" | "_") {
        return Err(syn::Error::new_spanned(
            &ident,
            format!("`{name}` cannot be a label: it cannot name the parameter of `labels(..)`"),
        ));
    }
    Ok(Ident::new_raw(&name, ident.span()))
}

/// `static NAME: Type;` — the declaration `#[metric]` goes on. The value is
/// the attribute's to create, so there is no initialiser.
pub(crate) struct Declaration {
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) static_token: Token![static],
    pub(crate) ident: Ident,
    pub(crate) ty: Type,
}

impl Parse for Declaration {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        if !input.peek(Token![static]) {
            return Err(input.error(
                "#[metric] goes on a static declaration without a value: `static PAYMENTS: o11y::Counter;`",
            ));
        }
        let static_token: Token![static] = input.parse()?;
        if input.peek(Token![mut]) {
            let mutability: Token![mut] = input.parse()?;
            return Err(syn::Error::new_spanned(
                mutability,
                "a metric is shared and updated through `&self`: declare it without `mut`",
            ));
        }
        let ident: Ident = input.parse()?;
        input.parse::<Token![:]>()?;
        let ty: Type = input.parse()?;
        if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            let value: Expr = input.parse()?;
            return Err(syn::Error::new_spanned(
                value,
                "#[metric] creates the value: remove the initialiser (`static PAYMENTS: o11y::Counter;`)",
            ));
        }
        input.parse::<Token![;]>()?;
        Ok(Declaration {
            attrs,
            vis,
            static_token,
            ident,
            ty,
        })
    }
}
