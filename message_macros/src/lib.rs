//! Error messages as data (issue 33 item 2): `#[derive(Localized)]` reads a
//! type's `#[error("…")]` templates (the ones thiserror renders in English for
//! the log) and gives each value a `domain::message::Message`, the catalog
//! key and the values the template names; `message!` does the same for a
//! message written inline. The API renders that in the caller's language from
//! its Fluent catalog; nothing parses rendered text.
//!
//! The key is the template's slug (`the case is claimed by {reviewer}` →
//! `the-case-is-claimed-by-reviewer`), so one wording is one catalog entry
//! wherever it is written, and a changed wording is a new key that the
//! catalog test reports until it is translated.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as Tokens, TokenTree};
use quote::{format_ident, quote};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Data, DeriveInput, Expr, Fields, Ident, LitStr, Token};

/// Values named like these are words the catalog translates too (an action,
/// a reason), not data carried as written.
const WORDED: [&str; 5] = ["action", "reason", "reasons", "what", "kind"];

/// Where a placeholder's value comes from.
enum Source {
    /// `{name}`: a field (derive) or a named argument or local (message!).
    Named(String),
    /// `{0}`: a tuple field.
    Index(usize),
    /// `{}`: the next positional argument.
    Next(usize),
}

/// One `{…}` of a template.
struct Slot {
    /// Its name in the normalized template and the catalog (`$name`).
    name: String,
    source: Source,
    /// The format spec after `:` (`?` for Debug), empty for Display.
    spec: String,
}

/// A template with every placeholder named, and its slots in order.
struct Template {
    normalized: String,
    slots: Vec<Slot>,
}

fn parse_template(text: &str) -> Result<Template, String> {
    let mut normalized = String::new();
    let mut slots: Vec<Slot> = Vec::new();
    let mut next = 0;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                normalized.push_str("{{");
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                normalized.push_str("}}");
            }
            '{' => {
                let mut inner = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(c) => inner.push(c),
                        None => return Err(format!("unclosed placeholder in {text:?}")),
                    }
                }
                let (name, spec) = inner.split_once(':').unwrap_or((&inner, ""));
                let name = name.trim();
                let (slot_name, source) = if name.is_empty() {
                    next += 1;
                    (format!("a{}", next - 1), Source::Next(next - 1))
                } else if let Ok(index) = name.parse::<usize>() {
                    (format!("v{index}"), Source::Index(index))
                } else {
                    (name.to_string(), Source::Named(name.to_string()))
                };
                normalized.push('{');
                normalized.push_str(&slot_name);
                normalized.push('}');
                if !slots.iter().any(|s| s.name == slot_name) {
                    slots.push(Slot {
                        name: slot_name,
                        source,
                        spec: spec.to_string(),
                    });
                }
            }
            '}' => return Err(format!("unmatched `}}` in {text:?}")),
            c => normalized.push(c),
        }
    }
    Ok(Template { normalized, slots })
}

/// The catalog key of a normalized template: lower-case ASCII words joined by
/// `-`, placeholders by their names; a key starts with a letter.
fn slug(normalized: &str) -> String {
    let mut key = String::new();
    for c in normalized.chars() {
        if c.is_ascii_alphanumeric() {
            key.push(c.to_ascii_lowercase());
        } else if !key.ends_with('-') && !key.is_empty() {
            key.push('-');
        }
    }
    let key = key.trim_end_matches('-').to_string();
    if key.starts_with(|c: char| c.is_ascii_alphabetic()) {
        key
    } else {
        format!("m-{key}")
    }
}

/// The `Arg` of one value: a nested message when its type is localized, a
/// word for a worded name, otherwise its Display (or its format spec).
fn arg_of(name: &str, value: Tokens, spec: &str) -> Tokens {
    if !spec.is_empty() {
        let format = format!("{{:{spec}}}");
        return quote! { ::domain::message::Arg::Value(::std::format!(#format, #value)) };
    }
    let arg = quote! { (&::domain::message::ArgOf(#value)).to_arg() };
    if WORDED.contains(&name) {
        quote! { #arg.into_word() }
    } else {
        arg
    }
}

fn message_of(template: &Template, args: Vec<Tokens>) -> Tokens {
    // A template that is one value and nothing else (`"{0}"`) passes that
    // value's message on, as `transparent` does.
    if let ([slot], [arg]) = (template.slots.as_slice(), args.as_slice()) {
        if template.normalized == format!("{{{}}}", slot.name) {
            return quote! {{
                #[allow(unused_imports)]
                use ::domain::message::{ViaDisplay as _, ViaLocalized as _};
                #arg.into_message()
            }};
        }
    }
    let key = slug(&template.normalized);
    let normalized = &template.normalized;
    let names = template.slots.iter().map(|s| &s.name);
    quote! {{
        #[allow(unused_imports)]
        use ::domain::message::{ViaDisplay as _, ViaLocalized as _};
        ::domain::message::Message::new(#key, #normalized, ::std::vec![#((#names, #args)),*])
    }}
}

/// Rewrites thiserror's `.field` / `.0` shorthand in an extra format argument
/// into the variant's binding.
fn rebind(tokens: Tokens) -> Tokens {
    let mut out = Vec::new();
    let mut at_start = true;
    let mut iter = tokens.into_iter().peekable();
    while let Some(token) = iter.next() {
        match &token {
            TokenTree::Punct(p) if p.as_char() == '.' && at_start => {
                match iter.next() {
                    Some(TokenTree::Ident(ident)) => out.push(TokenTree::Ident(ident)),
                    Some(TokenTree::Literal(literal)) => {
                        let ident = format_ident!("__{}", literal.to_string());
                        out.push(TokenTree::Ident(ident));
                    }
                    Some(other) => {
                        out.push(token.clone());
                        out.push(other);
                    }
                    None => out.push(token.clone()),
                }
                at_start = false;
            }
            TokenTree::Group(group) => {
                let inner = rebind(group.stream());
                let mut new = proc_macro2::Group::new(group.delimiter(), inner);
                new.set_span(group.span());
                out.push(TokenTree::Group(new));
                at_start = false;
            }
            TokenTree::Punct(p) if p.as_char() == ',' => {
                out.push(token.clone());
                at_start = true;
            }
            _ => {
                out.push(token.clone());
                at_start = false;
            }
        }
    }
    out.into_iter().collect()
}

/// What an `#[error(…)]` says.
enum ErrorAttr {
    Transparent,
    Template(LitStr, Vec<Tokens>),
}

fn error_attr(attrs: &[syn::Attribute], span: Span) -> syn::Result<ErrorAttr> {
    let attr = attrs
        .iter()
        .find(|a| a.path().is_ident("error"))
        .ok_or_else(|| syn::Error::new(span, "Localized needs an #[error(\"…\")] template"))?;
    let tokens = attr.meta.require_list()?.tokens.clone();
    if let Ok(ident) = syn::parse2::<Ident>(tokens.clone()) {
        if ident == "transparent" {
            return Ok(ErrorAttr::Transparent);
        }
    }
    let mut iter = tokens.into_iter();
    let first: Tokens = iter.next().into_iter().collect();
    let literal: LitStr = syn::parse2(first)?;
    // The extra arguments, split at top-level commas.
    let mut args = Vec::new();
    let mut current = Vec::new();
    for token in iter {
        match &token {
            TokenTree::Punct(p) if p.as_char() == ',' => {
                if !current.is_empty() {
                    args.push(rebind(std::mem::take(&mut current).into_iter().collect()));
                }
            }
            _ => current.push(token),
        }
    }
    if !current.is_empty() {
        args.push(rebind(current.into_iter().collect()));
    }
    Ok(ErrorAttr::Template(literal, args))
}

/// The arm of one variant (or of the struct). `generic` names the type's
/// type parameters: a transparent field of one is asked for its message
/// directly (method resolution cannot tell a generic's traits), and the
/// parameter gets that bound, collected in `bounds`.
fn arm(
    attrs: &[syn::Attribute],
    fields: &Fields,
    span: Span,
    generic: &[Ident],
    bounds: &mut Vec<Ident>,
) -> syn::Result<(Tokens, Tokens)> {
    let bindings: Vec<Ident> = match fields {
        Fields::Named(named) => named.named.iter().filter_map(|f| f.ident.clone()).collect(),
        Fields::Unnamed(unnamed) => (0..unnamed.unnamed.len())
            .map(|i| format_ident!("__{}", i))
            .collect(),
        Fields::Unit => Vec::new(),
    };
    let pattern = match fields {
        Fields::Named(_) => quote! { { #(#bindings,)* .. } },
        Fields::Unnamed(_) => quote! { ( #(#bindings),* ) },
        Fields::Unit => quote! {},
    };
    let body = match error_attr(attrs, span)? {
        ErrorAttr::Transparent => {
            let inner = bindings
                .first()
                .ok_or_else(|| syn::Error::new(span, "transparent needs one field"))?;
            let field_type = fields.iter().next().map(|f| &f.ty);
            if let Some(syn::Type::Path(path)) = field_type {
                if let Some(ident) = path.path.get_ident().filter(|i| generic.contains(i)) {
                    bounds.push(ident.clone());
                    return Ok((
                        pattern,
                        quote! { ::domain::message::Localized::message(#inner) },
                    ));
                }
            }
            quote! {{
                #[allow(unused_imports)]
                use ::domain::message::{ViaDisplay as _, ViaLocalized as _};
                (&::domain::message::ArgOf(#inner)).to_arg().into_message()
            }}
        }
        ErrorAttr::Template(literal, extra) => {
            let template =
                parse_template(&literal.value()).map_err(|e| syn::Error::new(literal.span(), e))?;
            let mut args = Vec::new();
            for slot in &template.slots {
                let value = match &slot.source {
                    Source::Named(name) => {
                        let ident = Ident::new(name, literal.span());
                        quote! { #ident }
                    }
                    Source::Index(index) => {
                        let ident = format_ident!("__{}", index);
                        quote! { #ident }
                    }
                    Source::Next(index) => {
                        let expr = extra.get(*index).ok_or_else(|| {
                            syn::Error::new(literal.span(), "a `{}` without its argument")
                        })?;
                        quote! { &(#expr) }
                    }
                };
                args.push(arg_of(&slot.name, value, &slot.spec));
            }
            message_of(&template, args)
        }
    };
    Ok((pattern, body))
}

fn derive(input: DeriveInput) -> syn::Result<Tokens> {
    let name = &input.ident;
    let generic: Vec<Ident> = input
        .generics
        .type_params()
        .map(|p| p.ident.clone())
        .collect();
    let mut bounds = Vec::new();
    let body = match &input.data {
        Data::Enum(data) => {
            let mut arms = Vec::new();
            for variant in &data.variants {
                let (pattern, body) = arm(
                    &variant.attrs,
                    &variant.fields,
                    variant.ident.span(),
                    &generic,
                    &mut bounds,
                )?;
                let ident = &variant.ident;
                arms.push(quote! { Self::#ident #pattern => #body, });
            }
            quote! {
                #[allow(unused_variables)]
                match self { #(#arms)* }
            }
        }
        Data::Struct(data) => {
            let (pattern, body) = arm(
                &input.attrs,
                &data.fields,
                name.span(),
                &generic,
                &mut bounds,
            )?;
            quote! {
                #[allow(unused_variables)]
                let Self #pattern = self;
                #body
            }
        }
        Data::Union(_) => {
            return Err(syn::Error::new(
                name.span(),
                "Localized is for enums and structs",
            ))
        }
    };
    let mut generics = input.generics.clone();
    for bound in &bounds {
        generics
            .make_where_clause()
            .predicates
            .push(syn::parse_quote! { #bound: ::domain::message::Localized });
    }
    let (impl_generics, type_generics, where_clause) = generics.split_for_impl();
    Ok(quote! {
        impl #impl_generics ::domain::message::Localized for #name #type_generics #where_clause {
            fn message(&self) -> ::domain::message::Message {
                #body
            }
        }
    })
}

/// Derives `domain::message::Localized` from the type's `#[error]` templates.
#[proc_macro_derive(Localized)]
pub fn derive_localized(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as DeriveInput);
    derive(input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// `message!("template {value}", other = expr, …)`.
struct Inline {
    template: LitStr,
    named: Vec<(Ident, Expr)>,
    positional: Vec<Expr>,
}

impl Parse for Inline {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let template: LitStr = input.parse()?;
        let mut named = Vec::new();
        let mut positional = Vec::new();
        if input.parse::<Option<Token![,]>>()?.is_some() {
            let args: Punctuated<Expr, Token![,]> = Punctuated::parse_terminated(input)?;
            for arg in args {
                match arg {
                    Expr::Assign(assign) => match *assign.left {
                        Expr::Path(path) if path.path.get_ident().is_some() => {
                            let ident = path.path.get_ident().cloned().expect("an ident");
                            named.push((ident, *assign.right));
                        }
                        other => {
                            return Err(syn::Error::new_spanned(other, "expected `name = value`"))
                        }
                    },
                    other => positional.push(other),
                }
            }
        }
        Ok(Inline {
            template,
            named,
            positional,
        })
    }
}

/// A message written inline: `message!("page size must be between 1 and {max}")`
/// takes `max` from scope, as `format!` does; `message!("…{kind}…", kind = "x")`
/// names it.
#[proc_macro]
pub fn message(input: TokenStream) -> TokenStream {
    let inline = syn::parse_macro_input!(input as Inline);
    let span = inline.template.span();
    let template = match parse_template(&inline.template.value()) {
        Ok(template) => template,
        Err(e) => return syn::Error::new(span, e).into_compile_error().into(),
    };
    let mut args = Vec::new();
    for slot in &template.slots {
        let value = match &slot.source {
            Source::Named(name) => match inline.named.iter().find(|(ident, _)| ident == name) {
                Some((_, expr)) => quote! { &(#expr) },
                None => {
                    let ident = Ident::new(name, span);
                    quote! { &#ident }
                }
            },
            Source::Next(index) => match inline.positional.get(*index) {
                Some(expr) => quote! { &(#expr) },
                None => {
                    return syn::Error::new(span, "a `{}` without its argument")
                        .into_compile_error()
                        .into()
                }
            },
            Source::Index(_) => {
                return syn::Error::new(span, "name the value: `{name}`, not `{0}`")
                    .into_compile_error()
                    .into()
            }
        };
        args.push(arg_of(&slot.name, value, &slot.spec));
    }
    message_of(&template, args).into()
}
