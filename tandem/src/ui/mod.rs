//! The UI side: what runs in the component tree, in the browser and while
//! the server renders the page.
//!
//! In the order one mutation flows through it: a [`form`] submit or an
//! [`action`](mod@action) dispatch ([`action_state`], [`transition`] and
//! [`optimistic`] build on them) waits for its turn in the [`queue`]; the
//! [`client`] sends it and asks for the envelope; the page's [`query`]
//! data is put in place from the answer. [`hydration`] covers the time
//! before the wasm arrives: submissions are queued, then replayed or
//! posted natively. [`fields`] are inputs that take back what the user
//! typed after a post without JavaScript, safely.

pub mod action;
pub mod action_state;
pub mod client;
pub mod fields;
pub mod form;
pub mod hydration;
pub mod optimistic;
pub(crate) mod page;
pub mod query;
pub mod queue;
pub mod response;
pub mod transition;
#[cfg(any(feature = "hydrate", feature = "csr"))]
pub(crate) mod upload;
