//! The Tandem demo app: one route per example of the "Updating Data" guide.
//! Routes, test ids and texts follow `shared/demo-contract.md` exactly.

pub mod pages;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

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
                <Route path=path!("/") view=pages::home::HomePage ssr=SsrMode::Async/>
                <Route path=path!("/posts") view=pages::posts::PostsPage ssr=SsrMode::Async/>
                <Route path=path!("/posts/new") view=pages::posts_new::NewPostPage ssr=SsrMode::Async/>
                <Route path=path!("/posts/:id") view=pages::post::PostPage ssr=SsrMode::Async/>
                <Route path=path!("/likes") view=pages::likes::LikesPage ssr=SsrMode::Async/>
                <Route path=path!("/views") view=pages::views::ViewsPage ssr=SsrMode::Async/>
                <Route path=path!("/cookies") view=pages::cookies::CookiesPage ssr=SsrMode::Async/>
                <Route path=path!("/refresh") view=pages::refresh::RefreshPage ssr=SsrMode::Async/>
                <Route path=path!("/tags") view=pages::tags::TagsPage ssr=SsrMode::Async/>
                <Route path=path!("/signup") view=pages::signup::SignupPage ssr=SsrMode::Async/>
                <Route path=path!("/errors") view=pages::errors::ErrorsPage ssr=SsrMode::Async/>
                // The benchmark's plain-Leptos `/likes`.
                <Route path=path!("/bench/leptos-likes") view=pages::plain_likes::PlainLikesPage ssr=SsrMode::Async/>
            </Routes>
            </ErrorBoundary>
        </main>
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
