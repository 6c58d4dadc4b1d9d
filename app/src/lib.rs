//! The Tandem demo app: one route per example of the "Updating Data" guide.
//! Routes, test ids and texts follow `shared/demo-contract.md` exactly.

pub mod pages;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
#[cfg(not(feature = "csr"))]
use leptos_router::lazy_route;
use leptos_router::{
    components::{Route, Router, Routes},
    path, Lazy, LazyRoute, SsrMode,
};

/// A page whose code is its own wasm chunk (`cargo leptos build --split`),
/// fetched when the route is first visited, or before hydration when the
/// page is the first one loaded. `/likes` stays in the main module: a page
/// with one button downloads the framework and its own view, not every
/// page's. In the client-only (Trunk) build, which does not split, the
/// page is compiled in as any other.
macro_rules! lazy_page {
    ($name:ident, $page:path) => {
        #[doc = concat!("The route of [`", stringify!($page), "`], loaded lazily.")]
        pub struct $name;

        #[cfg(not(feature = "csr"))]
        #[lazy_route]
        impl LazyRoute for $name {
            fn data() -> Self {
                $name
            }
            fn view(_this: Self) -> AnyView {
                view! { <Bounded>{$page()}</Bounded> }.into_any()
            }
        }

        #[cfg(feature = "csr")]
        impl LazyRoute for $name {
            fn data() -> Self {
                $name
            }
            async fn view(_this: Self) -> AnyView {
                view! { <Bounded>{$page()}</Bounded> }.into_any()
            }
        }
    };
}

lazy_page!(HomeRoute, pages::home::HomePage);
lazy_page!(PostsRoute, pages::posts::PostsPage);
lazy_page!(NewPostRoute, pages::posts_new::NewPostPage);
lazy_page!(PostRoute, pages::post::PostPage);
lazy_page!(ViewsRoute, pages::views::ViewsPage);
lazy_page!(CookiesRoute, pages::cookies::CookiesPage);
lazy_page!(RefreshRoute, pages::refresh::RefreshPage);
lazy_page!(TagsRoute, pages::tags::TagsPage);
lazy_page!(SignupRoute, pages::signup::SignupPage);
lazy_page!(ErrorsRoute, pages::errors::ErrorsPage);

/// The HTML document the server renders around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The routes of the demo, for the navigation bar.
const ROUTES: &[&str] = &[
    "/posts",
    "/posts/new",
    "/likes",
    "/views",
    "/cookies",
    "/refresh",
    "/tags",
    "/signup",
    "/errors",
];

/// The app's root: navigation and routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="tandem-demo" href="/pkg/tandem-demo.css"/>
        <Title text="Tandem demo"/>
        <Router>
            <tandem::Runtime/>
            <nav>
                <a href="/">"Tandem"</a>
                {ROUTES.iter().map(|r| view! { <a href=*r>{*r}</a> }).collect_view()}
            </nav>
            <Main/>
        </Router>
    }
}

/// The routes inside the error boundary. The page's path is read here,
/// inside the `<Router>`: the boundary's fallback can be built later (an
/// error that arrives while the page streams), where the router's context
/// is not in reach.
#[component]
fn Main() -> impl IntoView {
    let pathname = leptos_router::hooks::use_location().pathname;
    view! {
        <main>
            // An action that fails unexpectedly lands here, with the id
            // the server logged it with.
            <ErrorBoundary fallback=move |errors| view! { <Failure errors pathname/> }>
            // Async: every resource resolves before the HTML is sent, so
            // the page is whole without JavaScript.
            <Routes fallback=|| view! { <h1>"Page not found"</h1> }>
                <Route path=path!("/") view={Lazy::<HomeRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/posts") view={Lazy::<PostsRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/posts/new") view={Lazy::<NewPostRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/posts/:id") view={Lazy::<PostRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/likes") view=pages::likes::LikesPage ssr=SsrMode::Async/>
                <Route path=path!("/views") view={Lazy::<ViewsRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/cookies") view={Lazy::<CookiesRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/refresh") view={Lazy::<RefreshRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/tags") view={Lazy::<TagsRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/signup") view={Lazy::<SignupRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/errors") view={Lazy::<ErrorsRoute>::new()} ssr=SsrMode::Async/>
                // The benchmark's plain-Leptos `/likes`.
                <Route path=path!("/bench/leptos-likes") view=pages::plain_likes::PlainLikesPage ssr=SsrMode::Async/>
            </Routes>
            </ErrorBoundary>
        </main>
    }
}

/// An error boundary of its own around a lazy route's page: the page is
/// built after its chunk arrives, outside the render pass of `Main`'s
/// boundary, and its errors would reach no boundary.
#[component]
fn Bounded(children: Children) -> impl IntoView {
    let pathname = leptos_router::hooks::use_location().pathname;
    view! {
        <ErrorBoundary fallback=move |errors| view! { <Failure errors pathname/> }>
            {children()}
        </ErrorBoundary>
    }
}

/// The error boundary's fallback: what failed, the error id the server
/// logged it with, and a button that brings the page back (a plain GET of
/// the page without JavaScript).
#[component]
fn Failure(errors: ArcRwSignal<leptos::error::Errors>, pathname: Memo<String>) -> impl IntoView {
    let failures = {
        let errors = errors.clone();
        move || {
            errors
                .get()
                .into_iter()
                .map(|(_, e)| {
                    let action = (*e).downcast_ref::<tandem::ui::form::ActionError>().cloned();
                    let id = action.as_ref().and_then(|a| a.id.clone());
                    view! {
                        <li>
                            {e.to_string()}
                            {id.map(|id| view! { " (error id " <code data-testid="error-id">{id}</code> ")" })}
                        </li>
                    }
                })
                .collect_view()
        }
    };
    let reset = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        tandem::reset_errors();
        errors.update(|e| *e = Default::default());
    };
    view! {
        <div role="alert" data-testid="error-boundary" class="error">
            <h2>"Something went wrong"</h2>
            <ul>{failures}</ul>
            <form method="get" action=move || pathname.get() on:submit=reset>
                <button type="submit" data-testid="error-reset">"Try again"</button>
            </form>
        </div>
    }
}
