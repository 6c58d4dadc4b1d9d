//! `/likes`: a server function called from an event handler.
//!
//! The total is read on the server while rendering; each click dispatches
//! `increment_like` through Tandem's FIFO queue and shows the total it
//! returns, so quick clicks land in order and the page ends on the server's
//! total.

use leptos::prelude::*;
use shared::increment_like;
use shared::likes::GetLikes;

/// The likes page.
#[component]
pub fn LikesPage() -> impl IntoView {
    let initial = tandem::use_query(|| GetLikes {});
    view! {
        <h1>"Likes"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match initial.await {
                    Ok(total) => view! { <LikeButton initial=total/> }.into_any(),
                    Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The total and the button that adds to it.
#[component]
fn LikeButton(initial: i64) -> impl IntoView {
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
        <p data-testid="likes">"Total Likes: " {total}</p>
        <button data-testid="like-button" on:click=move |_| like.dispatch(())>
            "Like"
        </button>
        {error}
    }
}
