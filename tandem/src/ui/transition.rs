//! Transitions: async work whose pending state the page shows.
//!
//! [`use_transition`] is React's `useTransition`: `is_pending` is true from
//! the moment [`StartTransition::start`] is called until its future settles.
//! Server functions called inside go through Tandem's client, so the pending
//! state also covers the fresh data their effects bring in.
//!
//! ```no_run
//! use leptos::prelude::*;
//!
//! #[tandem::server(endpoint = "increment_views")]
//! pub async fn increment_views() -> Result<i64, ServerFnError> {
//!     Ok(1)
//! }
//!
//! #[component]
//! fn ViewCount(initial: i64) -> impl IntoView {
//!     let views = RwSignal::new(initial);
//!     let (is_pending, start_transition) = tandem::use_transition();
//!     Effect::new(move |_| {
//!         start_transition.start(async move {
//!             if let Ok(n) = increment_views().await {
//!                 views.set(n);
//!             }
//!         })
//!     });
//!     view! {
//!         <p>"Total Views: " {views}</p>
//!         <Show when=move || is_pending.get()>"Counting…"</Show>
//!     }
//! }
//! ```

use leptos::prelude::*;
use std::future::Future;

/// Starts transitions; `Copy`, so it moves into closures freely.
///
/// ```no_run
/// let (_pending, start_transition) = tandem::use_transition();
/// start_transition.start(async {});
/// ```
#[derive(Clone, Copy)]
pub struct StartTransition {
    running: RwSignal<usize>,
}

impl StartTransition {
    /// Runs `work` in the background; the transition is pending until it
    /// (and every other started with this handle) settles.
    ///
    /// ```no_run
    /// let (_pending, start_transition) = tandem::use_transition();
    /// start_transition.start(async { /* await a server function */ });
    /// ```
    pub fn start(&self, work: impl Future<Output = ()> + 'static) {
        let running = self.running;
        running.update(|n| *n += 1);
        leptos::task::spawn_local(async move {
            work.await;
            running.try_update(|n| *n = n.saturating_sub(1));
        });
    }
}

/// `(is_pending, start_transition)`, as React's `useTransition`.
///
/// ```no_run
/// use leptos::prelude::*;
/// let (is_pending, _start) = tandem::use_transition();
/// assert!(!is_pending.get_untracked());
/// ```
pub fn use_transition() -> (Signal<bool>, StartTransition) {
    let running = RwSignal::new(0usize);
    (
        Signal::derive(move || running.get() > 0),
        StartTransition { running },
    )
}
