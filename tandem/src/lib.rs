//! # Tandem
//!
//! Server functions for updating data from the browser, the way Next.js
//! Server Actions do it, on Leptos 0.8, server_fn and axum.
//!
//! A server function is written once, in a crate both sides share. On the
//! server it is a POST handler; in the browser, a fetch stub. With Tandem
//! its response also carries *effects* (redirect, refresh, revalidated
//! paths and tags, cookie changes) and the fresh data of the page, applied
//! before the call returns: one request per mutation. Forms work without
//! JavaScript and before the wasm has loaded; actions run one at a time, in
//! order.
//!
//! ```no_run
//! use leptos::prelude::*;
//! use tandem::{use_action, use_action_state, use_query, Form, Input, Prev};
//!
//! // shared/: runs on the server, called from the browser.
//! #[tandem::server]
//! pub async fn increment_like() -> Result<i64, ServerFnError> {
//!     Ok(1) // UPDATE counters SET value = value + 1 … RETURNING value
//! }
//!
//! // A query only reads; pages mount it, actions bring it up to date.
//! #[tandem::query]
//! pub async fn get_title() -> Result<String, ServerFnError> {
//!     Ok(tandem::cookies().get("title").unwrap_or_default())
//! }
//!
//! #[tandem::server]
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
//!             <Input name="title"/>
//!             <button type="submit" disabled=pending>"Rename"</button>
//!             <p>{state}</p>
//!         </Form>
//!     }
//! }
//! ```
//!
//! Put [`Runtime`] once inside your `<Router>`, put
//! [`TandemServer::layer`] in front of your axum app and serve it with
//! [`serve()`] (see [`server`]).
//!
//! ## Declaring functions
//!
//! `#[tandem::server]` and `#[tandem::query]` are Leptos's `#[server]`
//! with Tandem's client, and they declare the function to Tandem's server:
//!
//! - a declared function's body is checked against its codec before it
//!   runs: a content type its codec does not read is refused with `415`,
//!   a body that does not decode with `400` (a forged bound argument with
//!   `403`), and nothing runs;
//! - only functions declared with `#[tandem::query]` may be mounted with
//!   [`use_query`] (a compile-time check: they implement [`Query`]) and
//!   named among the queries an action asks the server to read again; a
//!   request naming anything else is refused whole with `400`, the action
//!   included, so a client can never make the server run a mutation as a
//!   "re-read". A query must only read.
//!
//! A plain `#[server(client = tandem::TandemClient)]` still works with
//! Tandem's effects, without those checks.
//!
//! ## Features
//!
//! - `ssr`: the server side (axum, leptos_axum).
//! - `hydrate`: the browser, hydrating server-rendered HTML.
//! - `csr`: the browser, as a client-only SPA (Trunk).
//! - `redis`: [`RedisStore`](server::cache::RedisStore), a cache store
//!   shared by many instances (selected by `TANDEM_CACHE_URL=redis://…`).
//!
//! ## The parts, in the order one mutation flows through them
//!
//! - [`ui`] (both sides of the component tree): a [`Form`] submit or an
//!   [`Action`] dispatch waits for its turn in the [queue](ui::queue); the
//!   [client](ui::client) sends it, naming the page's mounted
//!   [queries](ui::query), and asks for the envelope.
//! - [`wire`] (shared): the headers, the [`Envelope`](wire::Envelope) and
//!   its [`Effects`](wire::Effects), the hidden form fields, the argument
//!   types [`Bound`] and [`Prev`].
//! - `server` (feature `ssr`): the [guard](server::guard) checks the
//!   request, the [pipeline](server#the-pipeline) checks the body against
//!   the function's [declaration](server::registry), opens its
//!   [bound arguments](server::bind), runs it with an
//!   [effects record](server::record), applies its effects to the
//!   [cache](server::cache), reads the touched queries again and answers
//!   with one envelope.
//! - back in [`ui`]: the client puts the fresh data in place and navigates;
//!   [hydration](ui::hydration) replays submissions made before the wasm
//!   arrived.
//!
//! The server side never imports the UI side; the wire imports neither.

#![warn(missing_docs)]

// Lets the attributes' `::tandem::…` paths resolve inside this crate too.
extern crate self as tandem;

#[cfg(feature = "ssr")]
pub mod server;
pub mod ui;
pub mod wire;

pub use tandem_macros::{query, server};

pub use ui::action::{use_action, use_concurrent_action, Action};
pub use ui::action_state::{use_action_state, use_form_action, use_upload_action, FormAction};
pub use ui::client::{TandemClient, TandemResponse};
pub use ui::fields::{use_submitted_value, Input, SubmittedValue, TextArea};
pub use ui::form::{
    reset_errors, use_field_issues, use_form_issues, use_form_status, AnyFormAction, FieldIssues,
    Form, FormStatus, SubmitButton,
};
pub use ui::hydration::{Runtime, HYDRATED_ATTRIBUTE};
pub use ui::optimistic::{use_optimistic, Optimistic};
pub use ui::query::{refresh_page, use_query, Query, QueryResource, QueryResult};
pub use ui::queue::{DispatchQueue, Turn, WaitForTurn};
pub use ui::response::not_found;
pub use ui::transition::{use_transition, StartTransition};
pub use wire::{Bound, Issue, Issues, Prev, Sealed, SubmittedAction};

#[cfg(feature = "ssr")]
pub use server::{
    cache, cookies, deny, invalid, redirect, refresh, revalidate_layout, revalidate_path,
    revalidate_tag, seal, serve, update_tag, BindError, BindKey, ConfigError, CookieOptions,
    Cookies, Denied, EffectsRecord, Guard, Invalid, Redirect, TandemServer,
};

#[doc(hidden)]
pub mod __private {
    #[cfg(feature = "ssr")]
    pub use server_fn::inventory;
}
