//! # Tandem
//!
//! Server functions for updating data from the browser, the way Next.js
//! Server Actions do it, on Leptos 0.8, server_fn and axum.
//!
//! A server function is written once, in a crate both sides share. On the
//! server it is a POST handler; in the browser, a fetch stub. With Tandem's
//! client its response also carries *effects* (redirect, refresh,
//! revalidated paths and tags, cookie changes), applied before the call
//! returns. Forms work without JavaScript and before the wasm has loaded;
//! actions run one at a time, in order.
//!
//! ```no_run
//! use leptos::prelude::*;
//! use tandem::{use_action, use_action_state, use_query, Form, Prev};
//!
//! // shared/: runs on the server, called from the browser.
//! #[server(endpoint = "increment_like", client = tandem::TandemClient)]
//! pub async fn increment_like() -> Result<i64, ServerFnError> {
//!     Ok(1) // UPDATE counters SET value = value + 1 … RETURNING value
//! }
//!
//! #[server(endpoint = "get_title", client = tandem::TandemClient)]
//! pub async fn get_title() -> Result<String, ServerFnError> {
//!     Ok(tandem::cookies().get("title").unwrap_or_default())
//! }
//!
//! #[server(endpoint = "rename", client = tandem::TandemClient)]
//! pub async fn rename(prev: Prev<String>, title: String) -> Result<String, ServerFnError> {
//!     if title.trim().is_empty() {
//!         return Ok("Title is required".into()); // an expected error is a state
//!     }
//!     tandem::cookies().set("title", title.clone()); // the page's data is read again
//!     Ok(format!("Renamed to {title}"))
//! }
//!
//! // app/: the page.
//! #[component]
//! pub fn Page() -> impl IntoView {
//!     // From an event handler, through the FIFO queue.
//!     let like = use_action(|_: &()| increment_like());
//!     // Server data, fresh after every action that changes it.
//!     let title = use_query(|| GetTitle {});
//!     // A form: native POST without JS, fetch with it.
//!     let (state, rename, pending) = use_action_state::<Rename>(String::new());
//!     view! {
//!         <button on:click=move |_| like.dispatch(())>"Like"</button>
//!         <Suspense>{move || title.get()}</Suspense>
//!         <Form action=rename>
//!             <input name="title"/>
//!             <button type="submit" disabled=pending>"Rename"</button>
//!             <p>{state}</p>
//!         </Form>
//!     }
//! }
//! ```
//!
//! Put [`Runtime`] once inside your `<Router>`, and route `/api/{*fn_name}`
//! and page form posts through [`TandemServer`] (see its docs).
//!
//! ## Features
//!
//! - `ssr`: the server side (axum, leptos_axum).
//! - `hydrate`: the browser, hydrating server-rendered HTML.
//! - `csr`: the browser, as a client-only SPA (Trunk).
//! - `redis`: `RedisStore`, a cache store shared by many instances
//!   (selected by `TANDEM_CACHE_URL=redis://…`).
//!
//! ## Modules, in the order one mutation flows through them
//!
//! 1. [`form`] and [`action`](mod@action): a submit or a click dispatches an action;
//!    [`action_state`], [`transition`] and [`optimistic`] build on it.
//! 2. [`queue`]: actions take turns, first in, first out.
//! 3. [`client`]: the request asks for the envelope.
//! 4. `guard` (feature `ssr`): origin, method, size, type and argument
//!    checks; `bind`: sealed arguments.
//! 5. `server` and `effects` (feature `ssr`): the function runs and records
//!    what it changed; `cache` applies it (to memory, or to Redis and every
//!    instance through `redis_store`); the affected queries run again; the
//!    answer is one [`flight::Envelope`].
//! 6. [`query`]: the client puts the fresh data in place.
//! 7. [`hydration`]: submissions made before the wasm arrived are replayed.

pub mod action;
pub mod action_state;
pub mod bind;
#[cfg(feature = "ssr")]
pub mod cache;
pub mod client;
#[cfg(feature = "ssr")]
pub mod effects;
pub mod flight;
pub mod form;
#[cfg(feature = "ssr")]
pub mod guard;
pub mod hydration;
pub mod optimistic;
pub mod query;
pub mod queue;
#[cfg(feature = "redis")]
pub mod redis_store;
mod runtime;
#[cfg(feature = "ssr")]
pub mod server;
pub mod transition;

pub use action::{use_action, use_concurrent_action, Action};
pub use action_state::{use_action_state, use_form_action, FormAction, Prev};
#[cfg(feature = "ssr")]
pub use bind::{seal, BindError, BindKey};
pub use bind::{Bound, Sealed};
#[cfg(feature = "ssr")]
pub use cache::cache;
pub use client::{TandemClient, TandemResponse};
#[cfg(feature = "ssr")]
pub use effects::{
    cookies, redirect, refresh, revalidate_path, revalidate_tag, update_tag, CookieOptions,
    Cookies, EffectsRecord, Redirect,
};
pub use form::{
    use_form_status, use_submitted_value, AnyFormAction, Form, FormStatus, SubmitButton,
    SubmittedAction,
};
#[cfg(feature = "ssr")]
pub use guard::Guard;
pub use hydration::{Runtime, HYDRATED_ATTRIBUTE};
pub use optimistic::{use_optimistic, Optimistic};
pub use query::{refresh_page, use_query, QueryResult};
pub use queue::{DispatchQueue, Turn, WaitForTurn};
#[cfg(feature = "redis")]
pub use redis_store::RedisStore;
#[cfg(feature = "ssr")]
pub use server::{ConfigError, TandemServer};
pub use transition::{use_transition, StartTransition};
