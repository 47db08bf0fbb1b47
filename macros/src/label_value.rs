//! `#[derive(LabelValue)]` for fieldless enums: each variant's label value
//! is its name in snake_case, or `#[label = "..."]`.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::{Data, DeriveInput, Expr, ExprLit, Fields, Lit, LitStr, Meta};

pub(crate) fn derive(input: TokenStream) -> TokenStream {
    match expand(input) {
        Ok(tokens) => tokens,
        Err(error) => error.to_compile_error(),
    }
}

fn expand(input: TokenStream) -> syn::Result<TokenStream> {
    let input: DeriveInput = syn::parse2(input)?;
    let Data::Enum(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "LabelValue derives for enums without fields, so a label can only take the listed values",
        ));
    };
    if data.variants.is_empty() {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "LabelValue needs at least one variant: a label takes one of the listed values",
        ));
    }
    let ident = &input.ident;
    let (impl_generics, type_generics, where_clause) = input.generics.split_for_impl();
    let mut arms = Vec::with_capacity(data.variants.len());
    let mut seen: Vec<(String, &syn::Ident)> = Vec::new();
    for variant in &data.variants {
        if !matches!(variant.fields, Fields::Unit) {
            return Err(syn::Error::new_spanned(
                &variant.fields,
                "a label value variant has no fields: a label takes one of a fixed set of values",
            ));
        }
        let explicit = label_attr(&variant.attrs)?;
        let value = explicit
            .as_ref()
            .map_or_else(|| snake_case(&variant.ident.to_string()), LitStr::value);
        if let Some((_, first)) = seen.iter().find(|(seen, _)| *seen == value) {
            // At the `#[label = ".."]` value when there is one, else at the variant's name.
            let at = explicit.as_ref().map_or_else(
                || variant.ident.to_token_stream(),
                ToTokens::to_token_stream,
            );
            return Err(syn::Error::new_spanned(
                at,
                format!(
                    "`{}` has the label value `{value}`, as `{first}` does: each variant needs its own",
                    variant.ident
                ),
            ));
        }
        seen.push((value.clone(), &variant.ident));
        let name = &variant.ident;
        arms.push(quote!(#ident::#name => #value));
    }
    Ok(quote! {
        impl #impl_generics ::o11y::metrics::LabelValue for #ident #type_generics #where_clause {
            fn label_value(&self) -> ::std::borrow::Cow<'_, str> {
                ::std::borrow::Cow::Borrowed(match self { #(#arms,)* })
            }
        }
    })
}

fn label_attr(attrs: &[syn::Attribute]) -> syn::Result<Option<LitStr>> {
    let Some(attr) = attrs.iter().find(|a| a.path().is_ident("label")) else {
        return Ok(None);
    };
    if let Meta::NameValue(pair) = &attr.meta
        && let Expr::Lit(ExprLit {
            lit: Lit::Str(value),
            ..
        }) = &pair.value
    {
        return Ok(Some(value.clone()));
    }
    Err(syn::Error::new_spanned(
        attr,
        "write the label value as `#[label = \"value\"]`",
    ))
}

/// heck's rule: an acronym is one word (`GRPC` → `grpc`, `HTTPRequest` →
/// `http_request`), where an underscore before each capital would spell
/// it out letter by letter.
fn snake_case(name: &str) -> String {
    heck::ToSnakeCase::to_snake_case(name)
}

#[cfg(test)]
mod tests {
    #[test]
    fn variant_names_become_snake_case() {
        assert_eq!(super::snake_case("CreditCard"), "credit_card");
        assert_eq!(super::snake_case("Ok"), "ok");
        assert_eq!(super::snake_case("HTTPRequest"), "http_request");
        assert_eq!(super::snake_case("GRPC"), "grpc");
        assert_eq!(super::snake_case("Http2"), "http2");
    }
}
