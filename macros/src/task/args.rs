//! The arguments of `#[task_traced(...)]`: those of `#[observe]` that
//! describe a span and its outcome (parsed by the same code), plus `link`.
//! Arguments of `#[observe]` that make no sense on a task are rejected at
//! their token, with the reason.

use syn::Ident;
use syn::Token;
use syn::parse::{Parse, ParseStream};

use crate::common::{did_you_mean, duplicate};
use crate::observe::ObserveArgs;

const ARGUMENTS: [&str; 9] = [
    "name", "level", "fields", "args", "skip", "err", "ret", "link", "crate",
];

/// Parsed `#[task_traced(...)]` arguments.
#[derive(Default)]
pub(crate) struct TaskArgs {
    /// `name`, `level`, `fields`, `args`, `skip(..)`, `err`, `ret`, `crate`.
    pub(crate) common: ObserveArgs,
    /// `link`: the producer's span becomes a link instead of the parent.
    pub(crate) link: Option<Ident>,
}

impl Parse for TaskArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = TaskArgs::default();
        while !input.is_empty() {
            if let Some(key) = args.common.parse_known(input)? {
                if key == "link" {
                    if args.link.is_some() {
                        return Err(duplicate(&key));
                    }
                    args.link = Some(key);
                } else {
                    let other = key.to_string();
                    let hint = did_you_mean(&other, &ARGUMENTS);
                    return Err(syn::Error::new_spanned(
                        &key,
                        format!(
                            "unknown argument `{other}` of #[task_traced]{hint}\n\
                             expected one of: name, level, fields, args, skip, err, ret, link, crate"
                        ),
                    ));
                }
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(args)
    }
}

impl TaskArgs {
    /// What `#[observe]` accepts but a task does not, then `#[observe]`'s
    /// own checks (parameters named in `args`/`skip` exist, ...).
    pub(crate) fn check(&self, params: &[Ident]) -> syn::Result<()> {
        let common = &self.common;
        let not_for_tasks = [
            common.concurrency.as_ref().map(|key| {
                (key, "`concurrency` is not needed: a task always maintains `task_in_progress`")
            }),
            common.metrics.as_ref().map(|(key, _)| {
                (key, "`metrics` cannot be turned off on a task: its metrics are what the worker reports")
            }),
            common.span.as_ref().map(|(key, _)| {
                (key, "`span` cannot be turned off on a task: its span is what continues the producer's trace")
            }),
            common.objective.as_ref().map(|(key, _)| {
                (key, "`objective` goes on an #[observe] function; a task's runs are watched by the TaskHighFailureRate alert of `o11y rules`")
            }),
        ];
        let mut errors: Option<syn::Error> = None;
        for (key, message) in not_for_tasks.into_iter().flatten() {
            push(&mut errors, syn::Error::new_spanned(key, message));
        }
        if let Some(error) = errors {
            return Err(error);
        }
        common.check(params)
    }
}

pub(crate) fn push(errors: &mut Option<syn::Error>, error: syn::Error) {
    match errors {
        Some(all) => all.combine(error),
        None => *errors = Some(error),
    }
}
