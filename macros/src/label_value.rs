//! `#[derive(LabelValue)]` for fieldless enums: each variant's label value
//! is its name in snake_case, or `#[label = "..."]`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput, Expr, ExprLit, Fields, Lit, Meta};

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
    let ident = &input.ident;
    let (impl_generics, type_generics, where_clause) = input.generics.split_for_impl();
    let mut arms = Vec::with_capacity(data.variants.len());
    let mut seen: Vec<String> = Vec::new();
    for variant in &data.variants {
        if !matches!(variant.fields, Fields::Unit) {
            return Err(syn::Error::new_spanned(&variant.fields, "a label value variant has no fields"));
        }
        let value = label_attr(&variant.attrs)?.unwrap_or_else(|| snake_case(&variant.ident.to_string()));
        if seen.contains(&value) {
            return Err(syn::Error::new_spanned(variant, format!("two variants have the label value `{value}`")));
        }
        seen.push(value.clone());
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

fn label_attr(attrs: &[syn::Attribute]) -> syn::Result<Option<String>> {
    let Some(attr) = attrs.iter().find(|a| a.path().is_ident("label")) else {
        return Ok(None);
    };
    if let Meta::NameValue(pair) = &attr.meta
        && let Expr::Lit(ExprLit { lit: Lit::Str(value), .. }) = &pair.value
    {
        return Ok(Some(value.value()));
    }
    Err(syn::Error::new_spanned(attr, "write the label value as `#[label = \"value\"]`"))
}

fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn variant_names_become_snake_case() {
        assert_eq!(super::snake_case("CreditCard"), "credit_card");
        assert_eq!(super::snake_case("Ok"), "ok");
    }
}
