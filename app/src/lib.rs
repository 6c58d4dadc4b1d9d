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

/// The app's root: navigation and routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="tandem-demo" href="/pkg/tandem-demo.css"/>
        <Title text="Tandem demo"/>
        <tandem::HydrationMarker/>
        <Router>
            <nav>
                <a href="/">"Tandem"</a>
                <a href="/likes">"Likes"</a>
            </nav>
            <main>
                // Async: every resource resolves before the HTML is sent, so
                // the page is whole without JavaScript.
                <Routes fallback=|| view! { <h1>"Page not found"</h1> }>
                    <Route path=path!("/") view=pages::home::HomePage ssr=SsrMode::Async/>
                    <Route path=path!("/likes") view=pages::likes::LikesPage ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}
