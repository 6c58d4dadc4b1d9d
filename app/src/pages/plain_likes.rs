//! `/bench/leptos-likes`: `/likes` written the usual Leptos way, for the
//! benchmark to compare against (not part of the demo's contract).
//!
//! A `ServerAction` calls `plain_increment_like` with Leptos's own client,
//! and a `Resource` keyed on the action's version refetches
//! `plain_get_likes` after each one: two requests per click, where Tandem's
//! `/likes` needs one.

use leptos::prelude::*;
use shared::likes::{plain_get_likes, PlainIncrementLike};

/// The plain-Leptos likes page (same test ids as `/likes`).
#[component]
pub fn PlainLikesPage() -> impl IntoView {
    let like = ServerAction::<PlainIncrementLike>::new();
    let total = Resource::new(move || like.version().get(), |_| plain_get_likes());
    view! {
        <h1>"Likes (plain Leptos)"</h1>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            <p data-testid="likes">
                "Total Likes: "
                {move || total.get().map(|r| r.map(|n| n.to_string()).unwrap_or_else(|e| e.to_string()))}
            </p>
        </Transition>
        <button data-testid="like-button" on:click=move |_| {
            like.dispatch(PlainIncrementLike {});
        }>"Like"</button>
    }
}
