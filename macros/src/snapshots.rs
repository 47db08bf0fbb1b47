//! Expansion snapshots: what each macro generates for a few fixed inputs,
//! formatted with prettyplease and compared with the checked-in
//! `src/snapshots/*.snap` files. A change to the generated code fails here
//! until its snapshot is reviewed (`cargo insta review`, or
//! `INSTA_UPDATE=always` and a look at the diff); with `CI=true` a new or
//! changed snapshot is never written, only reported.
//!
//! The `off` feature expands to the item as written, so these run without it.

use proc_macro2::TokenStream;
use quote::quote;

fn pretty(tokens: TokenStream) -> String {
    let file: syn::File = syn::parse2(tokens.clone())
        .unwrap_or_else(|error| panic!("the expansion does not parse: {error}\n{tokens}"));
    prettyplease::unparse(&file)
}

fn observe(attr: TokenStream, item: TokenStream) -> String {
    pretty(crate::observe::observe(attr, item))
}

#[test]
fn observe_sync_fn() {
    insta::assert_snapshot!(observe(
        quote!(),
        quote! {
            fn add(a: u64, b: u64) -> Result<u64, String> {
                if a == 0 {
                    return Err("zero".to_owned());
                }
                Ok(a + b)
            }
        },
    ));
}

#[test]
fn observe_objective() {
    insta::assert_snapshot!(observe(
        quote!(objective(success = 99.9, latency = "250ms" at 99)),
        quote! {
            fn lookup(id: u64) -> u64 {
                id
            }
        },
    ));
}

#[test]
fn observe_plain_sync_fn() {
    insta::assert_snapshot!(observe(
        quote!(),
        quote! {
            fn double(a: u64) -> u64 {
                a * 2
            }
        },
    ));
}

#[test]
fn observe_async_fn() {
    insta::assert_snapshot!(observe(
        quote!(),
        quote! {
            async fn fetch(id: u64) -> Result<u64, String> {
                if id == 0 {
                    return Err("no such id".to_owned());
                }
                Ok(id)
            }
        },
    ));
}

#[test]
fn observe_method_of_impl() {
    insta::assert_snapshot!(observe(
        quote!(),
        quote! {
            impl Repo {
                fn get(&self, id: u64) -> Option<u64> {
                    self.rows.get(&id).copied()
                }
                #[observe(skip)]
                fn len(&self) -> usize {
                    self.rows.len()
                }
            }
        },
    ));
}

/// A method observed alone: its site is qualified with the type at run
/// time, from the `type_name` of a function nested in it.
#[test]
fn observe_lone_method() {
    insta::assert_snapshot!(observe(
        quote!(),
        quote! {
            async fn find(&self, id: u64) -> Option<u64> {
                self.rows.get(&id).copied()
            }
        },
    ));
}

#[test]
fn observe_err() {
    insta::assert_snapshot!(observe(
        quote!(err),
        quote! {
            fn parse(text: &str) -> Result<u64, std::num::ParseIntError> {
                text.parse()
            }
        },
    ));
}

#[test]
fn observe_err_on_impl() {
    insta::assert_snapshot!(observe(
        quote!(err),
        quote! {
            impl Repo {
                fn get(&self, id: u64) -> Result<u64, String> {
                    self.rows.get(&id).copied().ok_or_else(|| format!("no row {id}"))
                }
            }
        },
    ));
}

#[test]
fn observe_fields_and_args() {
    insta::assert_snapshot!(observe(
        quote!(fields(user = %user), args(id), ret, level = "debug"),
        quote! {
            fn load(user: &str, id: u64) -> u64 {
                id
            }
        },
    ));
}

#[test]
fn metric_counter_with_labels() {
    insta::assert_snapshot!(pretty(crate::metric::metric(
        quote!(counter, help = "Payments processed", labels(status, method)),
        quote! {
            static PAYMENTS: o11y::Counter;
        },
    )));
}

#[test]
fn task_traced_async_fn() {
    insta::assert_snapshot!(pretty(crate::task::task_traced(
        quote!(err),
        quote! {
            async fn process_order(job: o11y::task::Envelope<OrderJob>) -> Result<(), String> {
                Ok(())
            }
        },
    )));
}
