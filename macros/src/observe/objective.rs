//! `objective(success = 99.9, latency = "250ms" at 99)` of `#[observe]`:
//! parsed into an [`ObjectiveArg`] and checked here, with the rules
//! `slo.routes` obeys at `init()` (`o11y_naming::objective`): percentages
//! above 0 and below 100, and a latency threshold that is a bucket of
//! `function_calls_duration_seconds`, whose buckets are known now.

use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::ParseStream;
use syn::{Ident, Lit, LitStr, Token, parenthesized};

use o11y_naming::DEFAULT_SECONDS_BUCKETS;
use o11y_naming::objective::{check_percent, check_threshold, parse_duration};

use crate::common::{did_you_mean, duplicate};

/// The histogram a function's latency objective is measured on.
const DURATION_METRIC: &str = "function_calls_duration_seconds";

/// A checked objective.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ObjectiveArg {
    pub(crate) success: Option<f64>,
    /// Seconds and percent.
    pub(crate) latency: Option<(f64, f64)>,
}

const PARTS: [&str; 2] = ["success", "latency"];

/// After the `objective` key: `(part, part)`.
pub(crate) fn parse(input: ParseStream<'_>, key: &Ident) -> syn::Result<ObjectiveArg> {
    if !input.peek(syn::token::Paren) {
        return Err(syn::Error::new_spanned(
            key,
            "`objective` takes its parts in parentheses: \
             `objective(success = 99.9, latency = \"250ms\" at 99)`",
        ));
    }
    let content;
    parenthesized!(content in input);
    let mut objective = ObjectiveArg {
        success: None,
        latency: None,
    };
    let mut seen: Vec<Ident> = Vec::new();
    while !content.is_empty() {
        let part: Ident = content.parse()?;
        if seen.contains(&part) {
            return Err(duplicate(&part));
        }
        content.parse::<Token![=]>().map_err(|_| {
            syn::Error::new_spanned(&part, format!("`{part}` takes a value: `{part} = ...`"))
        })?;
        match part.to_string().as_str() {
            "success" => {
                let (percent, tokens) = percentage(&content)?;
                check_percent("success", percent)
                    .map_err(|problem| syn::Error::new_spanned(&tokens, problem))?;
                objective.success = Some(percent);
            }
            "latency" => {
                let threshold: LitStr = content.parse().map_err(|e| {
                    syn::Error::new(
                        e.span(),
                        "`latency` takes a duration and a share of calls: `latency = \"250ms\" at 99`",
                    )
                })?;
                let seconds = parse_duration(&threshold.value())
                    .map_err(|problem| syn::Error::new_spanned(&threshold, problem))?;
                check_threshold(DURATION_METRIC, seconds, DEFAULT_SECONDS_BUCKETS)
                    .map_err(|problem| syn::Error::new_spanned(&threshold, problem))?;
                let at: Option<Ident> = content.parse()?;
                if at.as_ref().is_none_or(|at| at != "at") {
                    let value = threshold.value();
                    return Err(syn::Error::new_spanned(
                        &threshold,
                        format!(
                            "`latency = \"{value}\"` says no share of calls: write \
                             `latency = \"{value}\" at 99` (99 % of calls within {value})"
                        ),
                    ));
                }
                let (percent, tokens) = percentage(&content)?;
                check_percent("latency", percent)
                    .map_err(|problem| syn::Error::new_spanned(&tokens, problem))?;
                objective.latency = Some((seconds, percent));
            }
            other => {
                let hint = did_you_mean(other, &PARTS);
                return Err(syn::Error::new_spanned(
                    &part,
                    format!(
                        "unknown part `{other}` of an objective, which takes \
                         `success = 99.9` and/or `latency = \"250ms\" at 99`{hint}"
                    ),
                ));
            }
        }
        seen.push(part);
        if !content.is_empty() {
            content.parse::<Token![,]>()?;
        }
    }
    if seen.is_empty() {
        return Err(syn::Error::new_spanned(
            key,
            "`objective()` is empty: give `success = 99.9`, `latency = \"250ms\" at 99` or both",
        ));
    }
    Ok(objective)
}

/// A number literal, with an optional `%` after it; the tokens for errors.
fn percentage(input: ParseStream<'_>) -> syn::Result<(f64, TokenStream)> {
    let literal: Lit = input.parse()?;
    let value = match &literal {
        Lit::Float(float) => float.base10_parse::<f64>()?,
        Lit::Int(int) => int.base10_parse::<f64>()?,
        other => {
            return Err(syn::Error::new_spanned(
                other,
                "a percentage is a number, like 99.9 (not a string)",
            ));
        }
    };
    if input.peek(Token![%]) {
        input.parse::<Token![%]>()?;
    }
    Ok((value, quote!(#literal)))
}

impl ObjectiveArg {
    /// `.with_objective(…)` on the call site's `static`.
    pub(crate) fn tokens(&self, krate: &TokenStream) -> TokenStream {
        let success = match self.success {
            Some(percent) => quote!(::core::option::Option::Some(#percent)),
            None => quote!(::core::option::Option::None),
        };
        let latency = match self.latency {
            Some((threshold_seconds, percent)) => quote! {
                ::core::option::Option::Some(#krate::__private::LatencyObjective {
                    threshold_seconds: #threshold_seconds,
                    percent: #percent,
                })
            },
            None => quote!(::core::option::Option::None),
        };
        quote! {
            .with_objective(#krate::__private::Objective {
                success: #success,
                latency: #latency,
            })
        }
    }
}
