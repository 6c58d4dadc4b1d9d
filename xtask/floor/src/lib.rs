//! The bench's floors: the smallest hydrated pages Leptos 0.8 makes, one
//! part added per feature (see `Cargo.toml`). Each build is the browser's
//! side only: the server functions compile to their client stubs.

use leptos::prelude::*;

/// The mutation every floor calls.
#[server]
pub async fn increment_like() -> Result<i64, ServerFnError> {
    Ok(1)
}

/// The total the `resource` floor reads.
#[cfg(feature = "resource")]
#[server]
pub async fn get_likes() -> Result<i64, ServerFnError> {
    Ok(0)
}

/// The total the `query` floor reads.
#[cfg(feature = "query")]
#[tandem::query]
pub async fn get_likes() -> Result<i64, ServerFnError> {
    Ok(0)
}

/// The page without a router.
#[cfg(not(feature = "router"))]
#[component]
pub fn App() -> impl IntoView {
    view! {
        <main>
            <h1>"Likes"</h1>
            <LikeButton initial=0/>
        </main>
    }
}

/// The page inside a router with two routes.
#[cfg(feature = "router")]
#[component]
pub fn App() -> impl IntoView {
    use leptos_router::components::{Route, Router, Routes, A};
    use leptos_router::path;
    view! {
        <Router>
            {
                #[cfg(feature = "tandem")]
                { view! { <tandem::Runtime/> } }
            }
            <nav>
                <A href="/">"Home"</A>
                <A href="/likes">"Likes"</A>
            </nav>
            <main>
                <Routes fallback=|| view! { <h1>"Page not found"</h1> }>
                    <Route path=path!("/likes") view=Likes/>
                    <Route path=path!("/") view=|| view! { <h1>"Home"</h1> }/>
                </Routes>
            </main>
        </Router>
    }
}

/// `/likes`: the total, read on the server and hydrated, and the button.
#[cfg(feature = "router")]
#[component]
fn Likes() -> impl IntoView {
    #[cfg(feature = "resource")]
    let total = Resource::new(|| (), |_| get_likes());
    #[cfg(feature = "query")]
    let total = tandem::use_query(|| GetLikes {});
    #[cfg(any(feature = "resource", feature = "query"))]
    return view! {
        <h1>"Likes"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match total.await {
                    Ok(total) => view! { <LikeButton initial=total/> }.into_any(),
                    Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
    .into_any();
    #[allow(unreachable_code)]
    view! {
        <h1>"Likes"</h1>
        <LikeButton initial=0/>
    }
    .into_any()
}

/// The total and the button that adds to it: the demo's `/likes` button
/// (`app/src/pages/likes.rs`), written again here, since a floor depends on
/// nothing of the demo.
#[cfg_attr(feature = "islands", island)]
#[cfg_attr(not(feature = "islands"), component)]
fn LikeButton(initial: i64) -> impl IntoView {
    #[cfg(not(feature = "tandem"))]
    let like = Action::new(|_: &()| increment_like());
    #[cfg(feature = "tandem")]
    let like = tandem::use_action(|_: &()| increment_like());
    let total = move || match like.value().get() {
        Some(Ok(total)) => total,
        _ => initial,
    };
    let error = move || match like.value().get() {
        Some(Err(e)) => Some(view! { <p class="error" role="alert">{e.to_string()}</p> }),
        _ => None,
    };
    view! {
        <p>"Total Likes: " {total}</p>
        <button on:click=move |_| {
            like.dispatch(());
        }>"Like"</button>
        {error}
    }
}

/// The browser's entry point.
#[cfg(not(feature = "islands"))]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    leptos::mount::hydrate_body(App);
}

/// The browser's entry point: the islands only.
#[cfg(feature = "islands")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    leptos::mount::hydrate_islands();
}
