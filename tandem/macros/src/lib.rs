//! The attributes of Tandem. Use them through the `tandem` crate:
//! `#[tandem::server]` for a server function, `#[tandem::query]` for one
//! that only reads. Each is Leptos's `#[server]` with Tandem's client, plus
//! a declaration Tandem's server reads at start (see `tandem::server`).

#![warn(missing_docs)]

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::quote;
use syn::punctuated::Punctuated;
use syn::{parse_macro_input, Expr, ExprAssign, ExprPath, Ident, ItemFn, Token};

/// A server function: `#[server]` with `client = tandem::TandemClient`
/// (unless you name another), declared to Tandem so its body is checked
/// against its codec before it runs. Takes every argument `#[server]` takes,
/// and `guard = path`: an async function returning `Result<(), Denied>` run
/// before the body (see `tandem::server::limit`).
#[proc_macro_attribute]
pub fn server(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(args, item, Kind::Server)
}

/// A server function that only reads: as [`server`](macro@server), and also
/// declared as a query, so pages may mount it with `tandem::use_query` and
/// actions may ask for it to be read again.
#[proc_macro_attribute]
pub fn query(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(args, item, Kind::Query)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Server,
    Query,
}

fn expand(args: TokenStream, item: TokenStream, kind: Kind) -> TokenStream {
    let mut function = parse_macro_input!(item as ItemFn);
    let all = parse_macro_input!(args with Punctuated::<Expr, Token![,]>::parse_terminated);
    // `guard = path` is Tandem's: the guard runs first, in the body.
    let mut args = Punctuated::<Expr, Token![,]>::new();
    let mut guards = Vec::new();
    for arg in all {
        match guard_of(&arg) {
            Some(guard) => guards.push(guard),
            None => args.push(arg),
        }
    }
    if !guards.is_empty() {
        let body = &function.block;
        function.block = syn::parse_quote!({
            #( #guards().await?; )*
            #body
        });
    }
    let name = struct_name(&args, &function.sig.ident);
    let names_client = args.iter().any(|a| assigned(a) == Some("client"));
    let mut server_args: Vec<TokenStream2> = args.iter().map(|a| quote!(#a)).collect();
    if !names_client {
        server_args.push(quote!(client = ::tandem::TandemClient));
    }
    let kind_tokens = match kind {
        Kind::Server => quote!(::tandem::server::Kind::Server),
        Kind::Query => quote!(::tandem::server::Kind::Query),
    };
    let marker = (kind == Kind::Query).then(|| {
        quote! {
            impl ::tandem::Query for #name {}
        }
    });
    let declaration = cfg!(feature = "ssr").then(|| {
        quote! {
            ::tandem::__private::inventory::submit! {
                ::tandem::server::Declared::new::<#name>(#kind_tokens)
            }
        }
    });
    quote! {
        #[::leptos::server(#(#server_args),*)]
        #function
        #marker
        #declaration
    }
    .into()
}

/// The guard of a `guard = path` argument.
fn guard_of(arg: &Expr) -> Option<Expr> {
    let Expr::Assign(ExprAssign { left, right, .. }) = arg else {
        return None;
    };
    let Expr::Path(ExprPath { path, .. }) = left.as_ref() else {
        return None;
    };
    path.is_ident("guard").then(|| right.as_ref().clone())
}

/// The name of an `name = value` argument.
fn assigned(arg: &Expr) -> Option<&'static str> {
    let Expr::Assign(ExprAssign { left, .. }) = arg else {
        return None;
    };
    let Expr::Path(ExprPath { path, .. }) = left.as_ref() else {
        return None;
    };
    ["name", "client", "endpoint", "input", "output", "prefix"]
        .into_iter()
        .find(|known| path.is_ident(known))
}

/// The struct `#[server]` generates: `name = X`, the legacy first
/// positional argument, or the function's name in UpperCamel case (the same
/// conversion as server_fn's macro).
fn struct_name(args: &Punctuated<Expr, Token![,]>, function: &Ident) -> Ident {
    for arg in args {
        if let Expr::Assign(ExprAssign { left, right, .. }) = arg {
            if let (Expr::Path(ExprPath { path, .. }), Expr::Path(value)) =
                (left.as_ref(), right.as_ref())
            {
                if path.is_ident("name") {
                    if let Some(ident) = value.path.get_ident() {
                        return ident.clone();
                    }
                }
            }
        }
    }
    if let Some(Expr::Path(ExprPath { path, .. })) = args.first() {
        if let Some(ident) = path.get_ident() {
            return ident.clone();
        }
    }
    let camel = convert_case::Converter::new()
        .from_case(convert_case::Case::Snake)
        .to_case(convert_case::Case::UpperCamel)
        .convert(function.to_string());
    Ident::new(&camel, Span::call_site())
}
