//! The arguments of `#[observe(...)]`, parsed into [`ObserveArgs`] with an
//! error at the offending token for anything unknown, misspelled, repeated
//! or malformed. Checks that need the function (parameter names) or
//! combinations of arguments are in [`ObserveArgs::check`].

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, LitBool, LitStr, Path, Token, parenthesized};

use crate::common::{Level, did_you_mean, duplicate};

use super::objective::{self, ObjectiveArg};

const ARGUMENTS: [&str; 12] = [
    "name",
    "level",
    "fields",
    "args",
    "skip",
    "err",
    "ret",
    "concurrency",
    "metrics",
    "span",
    "objective",
    "crate",
];

/// How a field value is recorded: as is, with `Display` (`%`), or `Debug` (`?`).
#[derive(Clone)]
pub(crate) enum Sigil {
    Value,
    Display,
    Debug,
}

/// `name = value` in `fields(...)`; the name may be dotted (`user.id`).
/// A bare `name` (`fields(item_id)`) is the shorthand of `tracing`'s
/// habit: the parameter of that name, recorded as `args(item_id)` would.
#[derive(Clone)]
pub(crate) struct Field {
    pub(crate) name: Punctuated<Ident, Token![.]>,
    pub(crate) sigil: Sigil,
    pub(crate) value: Expr,
    /// Written as a bare name: `value` is that name, which must be a parameter.
    pub(crate) shorthand: bool,
}

impl Parse for Field {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let name = Punctuated::parse_separated_nonempty_with(input, Ident::parse_any_ident)?;
        if !input.peek(Token![=]) {
            if let Some(param) = name.iter().next().filter(|_| name.len() == 1) {
                return Ok(Field {
                    value: syn::parse_quote!(#param),
                    name,
                    sigil: Sigil::Value,
                    shorthand: true,
                });
            }
            return Err(syn::Error::new_spanned(
                &name,
                format!(
                    "field `{}` needs a value: `{0} = expr` (only a parameter's own name \
                     stands alone)",
                    name.to_token_stream().to_string().replace(' ', "")
                ),
            ));
        }
        input.parse::<Token![=]>()?;
        let sigil = if input.peek(Token![%]) {
            input.parse::<Token![%]>()?;
            Sigil::Display
        } else if input.peek(Token![?]) {
            input.parse::<Token![?]>()?;
            Sigil::Debug
        } else {
            Sigil::Value
        };
        Ok(Field {
            name,
            sigil,
            value: input.parse()?,
            shorthand: false,
        })
    }
}

trait ParseAnyIdent {
    fn parse_any_ident(input: ParseStream<'_>) -> syn::Result<Ident>;
}

impl ParseAnyIdent for Ident {
    /// Field names may be keywords (`type`, `self`), as in `tracing`.
    fn parse_any_ident(input: ParseStream<'_>) -> syn::Result<Ident> {
        use syn::ext::IdentExt;
        Ident::parse_any(input)
    }
}

/// Which parameters `args` records.
#[derive(Clone)]
pub(crate) enum ArgsSelection {
    /// Bare `args`: every parameter (minus `skip(...)`).
    All,
    /// `args(a, b)`.
    Listed(Vec<Ident>),
}

/// `skip` alone, or `skip(a, b)`.
#[derive(Clone)]
pub(crate) enum SkipSelection {
    /// Opts a method out of an observed `impl` block.
    OptOut,
    Params(Vec<Ident>),
}

/// Parsed `#[observe(...)]` arguments. Each keeps the token it came from,
/// for errors that point at it.
#[derive(Clone, Default)]
pub(crate) struct ObserveArgs {
    pub(crate) name: Option<(Ident, LitStr)>,
    pub(crate) level: Option<(Ident, Level)>,
    pub(crate) fields: Option<(Ident, Vec<Field>)>,
    pub(crate) args: Option<(Ident, ArgsSelection)>,
    pub(crate) skip: Option<(Ident, SkipSelection)>,
    pub(crate) err: Option<(Ident, Option<Level>)>,
    /// `err` comes from an impl block, for every method: a method that does
    /// not return a `Result` is skipped, not an error.
    pub(crate) err_if_result: bool,
    pub(crate) ret: Option<(Ident, Option<Level>)>,
    pub(crate) concurrency: Option<Ident>,
    pub(crate) metrics: Option<(Ident, LitBool)>,
    pub(crate) span: Option<(Ident, LitBool)>,
    pub(crate) objective: Option<(Ident, ObjectiveArg)>,
    pub(crate) krate: Option<(Token![crate], Path)>,
}

fn set<T>(slot: &mut Option<T>, ident: &Ident, value: T) -> syn::Result<()> {
    if slot.is_some() {
        return Err(duplicate(ident));
    }
    *slot = Some(value);
    Ok(())
}

fn parenthesized_idents(input: ParseStream<'_>) -> syn::Result<Vec<Ident>> {
    let content;
    parenthesized!(content in input);
    let idents = Punctuated::<Ident, Token![,]>::parse_terminated_with(&content, |input| {
        use syn::ext::IdentExt;
        Ident::parse_any(input)
    })?;
    Ok(idents.into_iter().collect())
}

/// `(level = "warn")` after `err` / `ret`, or nothing.
fn optional_level(input: ParseStream<'_>, owner: &Ident) -> syn::Result<Option<Level>> {
    if !input.peek(syn::token::Paren) {
        return Ok(None);
    }
    let content;
    parenthesized!(content in input);
    let key: Ident = content.parse()?;
    if key != "level" {
        let hint = did_you_mean(&key.to_string(), &["level"]);
        return Err(syn::Error::new_spanned(
            &key,
            format!("`{owner}(...)` takes only `level = \"...\"`, not `{key}`{hint}"),
        ));
    }
    content.parse::<Token![=]>()?;
    let level = Level::parse(&content.parse()?)?;
    if !content.is_empty() {
        content.parse::<Token![,]>()?;
    }
    if !content.is_empty() {
        // Point at what follows, not at the comma before it.
        let extra: TokenStream = content.parse()?;
        return Err(syn::Error::new_spanned(
            extra,
            format!("`{owner}(...)` takes only `level = \"...\"`"),
        ));
    }
    Ok(Some(level))
}

fn bool_value(input: ParseStream<'_>, key: &Ident) -> syn::Result<LitBool> {
    input.parse::<Token![=]>().map_err(|_| {
        syn::Error::new_spanned(key, format!("`{key}` takes a value: `{key} = false`"))
    })?;
    input
        .parse::<LitBool>()
        .map_err(|e| syn::Error::new(e.span(), format!("`{key}` takes `true` or `false`")))
}

fn string_value(input: ParseStream<'_>, key: &Ident) -> syn::Result<LitStr> {
    input.parse::<Token![=]>().map_err(|_| {
        syn::Error::new_spanned(key, format!("`{key}` takes a value: `{key} = \"...\"`"))
    })?;
    input
        .parse::<LitStr>()
        .map_err(|e| syn::Error::new(e.span(), format!("`{key}` takes a string literal")))
}

impl Parse for ObserveArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = ObserveArgs::default();
        while !input.is_empty() {
            if let Some(key) = args.parse_known(input)? {
                let other = key.to_string();
                if let Some(reason) = instrument_only(&other) {
                    return Err(syn::Error::new_spanned(&key, reason));
                }
                let hint = did_you_mean(&other, &ARGUMENTS);
                return Err(syn::Error::new_spanned(
                    &key,
                    format!(
                        "unknown argument `{other}` of #[observe]{hint}\n\
                         expected one of: name, level, fields, args, skip, err, ret, \
                         concurrency, metrics, span, objective, crate"
                    ),
                ));
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(args)
    }
}

impl ObserveArgs {
    /// Parses one argument of the `#[observe]` family at `input` into
    /// `self`. An argument it does not know is returned, with only its name
    /// consumed, for the caller to parse (an attribute's own arguments) or
    /// to report.
    pub(crate) fn parse_known(&mut self, input: ParseStream<'_>) -> syn::Result<Option<Ident>> {
        if input.peek(Token![crate]) {
            let token: Token![crate] = input.parse()?;
            input.parse::<Token![=]>()?;
            if self.krate.is_some() {
                return Err(syn::Error::new_spanned(token, "`crate` is given twice"));
            }
            self.krate = Some((token, input.parse()?));
            return Ok(None);
        }
        let key: Ident = input.parse()?;
        match key.to_string().as_str() {
            "name" => {
                let value = string_value(input, &key)?;
                set(&mut self.name, &key, (key.clone(), value))?;
            }
            "level" => {
                let value = Level::parse(&string_value(input, &key)?)?;
                set(&mut self.level, &key, (key.clone(), value))?;
            }
            "fields" => {
                let content;
                parenthesized!(content in input);
                let fields = Punctuated::<Field, Token![,]>::parse_terminated(&content)?;
                set(
                    &mut self.fields,
                    &key,
                    (key.clone(), fields.into_iter().collect()),
                )?;
            }
            "args" => {
                let selection = if input.peek(syn::token::Paren) {
                    ArgsSelection::Listed(parenthesized_idents(input)?)
                } else {
                    ArgsSelection::All
                };
                set(&mut self.args, &key, (key.clone(), selection))?;
            }
            "skip" => {
                let selection = if input.peek(syn::token::Paren) {
                    SkipSelection::Params(parenthesized_idents(input)?)
                } else {
                    SkipSelection::OptOut
                };
                set(&mut self.skip, &key, (key.clone(), selection))?;
            }
            "err" => {
                let level = optional_level(input, &key)?;
                set(&mut self.err, &key, (key.clone(), level))?;
            }
            "ret" => {
                let level = optional_level(input, &key)?;
                set(&mut self.ret, &key, (key.clone(), level))?;
            }
            "concurrency" => set(&mut self.concurrency, &key, key.clone())?,
            "metrics" => {
                let value = bool_value(input, &key)?;
                set(&mut self.metrics, &key, (key.clone(), value))?;
            }
            "span" => {
                let value = bool_value(input, &key)?;
                set(&mut self.span, &key, (key.clone(), value))?;
            }
            "objective" => {
                let value = objective::parse(input, &key)?;
                set(&mut self.objective, &key, (key.clone(), value))?;
            }
            _ => return Ok(Some(key)),
        }
        Ok(None)
    }
}

/// Arguments of `#[tracing::instrument]` that `#[observe]` spells
/// differently or does without, with what to write instead.
fn instrument_only(argument: &str) -> Option<&'static str> {
    Some(match argument {
        "skip_all" => {
            "`skip_all` is not needed: #[observe] records no argument unless named in `args(...)` or `fields(...)`"
        }
        "target" => {
            "#[observe] takes no `target`: its spans and events use the module path, as `tracing` does"
        }
        "parent" | "follows_from" => {
            "#[observe] takes no `parent` / `follows_from`: its span is a child of the current span"
        }
        _ => return None,
    })
}

impl ObserveArgs {
    /// `metrics` unless `metrics = false`.
    pub(crate) fn metrics_enabled(&self) -> bool {
        self.metrics.as_ref().is_none_or(|(_, value)| value.value)
    }

    /// `span` unless `span = false`.
    pub(crate) fn span_enabled(&self) -> bool {
        self.span.as_ref().is_none_or(|(_, value)| value.value)
    }

    /// Whether this is `#[observe(skip)]`, opting a method out of its impl block.
    pub(crate) fn is_opt_out(&self) -> bool {
        matches!(self.skip, Some((_, SkipSelection::OptOut)))
    }

    /// Combines impl-level arguments (`self`) with a method's own (`method`),
    /// the method's winning where both are given.
    pub(crate) fn merged_with(&self, method: ObserveArgs) -> ObserveArgs {
        ObserveArgs {
            name: method.name.or_else(|| self.name.clone()),
            level: method.level.or_else(|| self.level.clone()),
            fields: method.fields,
            args: method.args,
            skip: method.skip,
            err_if_result: method.err.is_none() && self.err.is_some(),
            err: method.err.or_else(|| self.err.clone()),
            ret: method.ret.or_else(|| self.ret.clone()),
            concurrency: method.concurrency.or_else(|| self.concurrency.clone()),
            metrics: method.metrics.or_else(|| self.metrics.clone()),
            span: method.span.or_else(|| self.span.clone()),
            // Each method's own: an objective is one function's (the block's
            // is refused where the block is expanded).
            objective: method.objective,
            krate: method.krate.or_else(|| self.krate.clone()),
        }
    }

    /// Combinations that make no sense, and parameters that do not exist.
    pub(crate) fn check(&self, params: &[Ident]) -> syn::Result<()> {
        let mut errors: Option<syn::Error> = None;
        let mut push = |error: syn::Error| match &mut errors {
            Some(all) => all.combine(error),
            None => errors = Some(error),
        };
        if !self.span_enabled() {
            let span_off = " has no effect with `span = false`: it describes the span";
            if let Some((key, _)) = &self.fields {
                push(syn::Error::new_spanned(key, format!("`fields`{span_off}")));
            }
            if let Some((key, _)) = &self.args {
                push(syn::Error::new_spanned(key, format!("`args`{span_off}")));
            }
            if let Some((key, _)) = &self.name {
                push(syn::Error::new_spanned(key, format!("`name`{span_off}")));
            }
            if let Some((key, _)) = &self.level {
                push(syn::Error::new_spanned(key, format!("`level`{span_off}")));
            }
        }
        if let (Some((key, _)), false) = (&self.objective, self.metrics_enabled()) {
            push(syn::Error::new_spanned(
                key,
                "`objective` is measured on the function's metrics: it has no effect with \
                 `metrics = false`",
            ));
        }
        if let (Some(key), false) = (&self.concurrency, self.metrics_enabled()) {
            push(syn::Error::new_spanned(
                key,
                "`concurrency` is a metric: it has no effect with `metrics = false`",
            ));
        }
        if let Some((key, selection)) = &self.skip {
            match (selection, &self.args) {
                (SkipSelection::OptOut, _) => push(syn::Error::new_spanned(
                    key,
                    "`skip` alone opts a method out of an `#[observe]` impl block; on a function, \
                     remove the attribute instead (to leave out parameters: `args, skip(a, b)`)",
                )),
                (SkipSelection::Params(_), None) => push(syn::Error::new_spanned(
                    key,
                    "`skip(...)` leaves parameters out of `args`, and no parameter is recorded \
                     without `args` (arguments are not captured unless named)",
                )),
                (SkipSelection::Params(_), Some((_, ArgsSelection::Listed(_)))) => {
                    push(syn::Error::new_spanned(
                        key,
                        "`skip(...)` has no effect with `args(...)`: list only the parameters to record",
                    ))
                }
                (SkipSelection::Params(names), Some((_, ArgsSelection::All))) => {
                    for name in names {
                        check_param(name, params, "skip", &mut push);
                    }
                }
            }
        }
        if let Some((_, ArgsSelection::Listed(names))) = &self.args {
            for name in names {
                check_param(name, params, "args", &mut push);
            }
        }
        if let Some((_, fields)) = &self.fields {
            for field in fields.iter().filter(|field| field.shorthand) {
                let name = &field.name[0];
                if !params.contains(name) {
                    push(syn::Error::new_spanned(
                        name,
                        format!(
                            "`fields({name})` records the parameter `{name}`, and the function \
                             has none{hint}; to record another value, write `fields({name} = expr)`",
                            hint = param_hint(name, params),
                        ),
                    ));
                }
            }
        }
        errors.map_or(Ok(()), Err)
    }
}

/// `; did you mean `x`?` when a parameter's name is close to `name`.
fn param_hint(name: &Ident, params: &[Ident]) -> String {
    let known: Vec<String> = params.iter().map(ToString::to_string).collect();
    let known: Vec<&str> = known.iter().map(String::as_str).collect();
    did_you_mean(&name.to_string(), &known)
}

fn check_param(name: &Ident, params: &[Ident], argument: &str, push: &mut impl FnMut(syn::Error)) {
    if !params.contains(name) {
        let hint = param_hint(name, params);
        push(syn::Error::new_spanned(
            name,
            format!("`{argument}({name})`: the function has no parameter `{name}`{hint}"),
        ));
    }
}

/// The span name tokens of a field: `user.id` stays dotted.
pub(crate) fn field_name(field: &Field) -> TokenStream {
    field.name.to_token_stream()
}
