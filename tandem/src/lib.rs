//! # Tandem
//!
//! Server functions for updating data from the browser, the way Next.js
//! Server Actions do it, on Leptos 0.8, server_fn and axum.
//!
//! A server function is written once, in a crate both sides share. On the
//! server it is a POST handler; in the browser, a fetch stub. Tandem calls it
//! from event handlers through a first-in, first-out dispatch queue, so quick
//! clicks never race and the page never shows an older result than the
//! newest one the server sent.
//!
//! ```no_run
//! use leptos::prelude::*;
//! use tandem::{use_action, HydrationMarker};
//!
//! // shared/src/lib.rs: runs on the server, called from the browser.
//! #[server(endpoint = "increment_like")]
//! pub async fn increment_like() -> Result<i64, ServerFnError> {
//!     // e.g. UPDATE counters SET value = value + 1 … RETURNING value
//!     Ok(1)
//! }
//!
//! // app/src/lib.rs: the page.
//! #[component]
//! pub fn Likes(initial: i64) -> impl IntoView {
//!     let like = use_action(|_: &()| increment_like());
//!     let total = move || like.value().get().and_then(Result::ok).unwrap_or(initial);
//!     view! {
//!         <HydrationMarker/>
//!         <p data-testid="likes">"Total Likes: " {total}</p>
//!         <button on:click=move |_| like.dispatch(()) disabled=move || like.pending().get()>
//!             "Like"
//!         </button>
//!     }
//! }
//! ```
//!
//! ## Features
//!
//! - `ssr`: the server side (axum, leptos_axum).
//! - `hydrate`: the browser, hydrating server-rendered HTML.
//! - `csr`: the browser, as a client-only SPA (Trunk).
//!
//! ## Modules, in the order one mutation flows through them
//!
//! 1. [`action`](mod@action): dispatching a server function from the page.
//! 2. [`queue`]: the FIFO dispatch queue actions take turns in.
//! 3. [`hydration`]: the marker that says the page is live.

pub mod action;
pub mod hydration;
pub mod queue;

pub use action::{use_action, use_concurrent_action, Action};
pub use hydration::{HydrationMarker, HYDRATED_ATTRIBUTE};
pub use queue::{DispatchQueue, Turn, WaitForTurn};
