//! Actions: server functions called from event handlers, one at a time.
//!
//! [`use_action`] wraps an async function (usually a server function) in an
//! [`Action`]: `dispatch` it from a click handler, read its latest result
//! with [`Action::value`] and whether it is running with [`Action::pending`].
//! Dispatches go through the page's [`DispatchQueue`], so five quick clicks
//! send five requests one after another, and the value shown is always the
//! result of the newest request that has completed: never an older one.
//! An action that may safely overlap with others opts out with
//! [`use_concurrent_action`].
//!
//! ```no_run
//! use leptos::prelude::*;
//! use tandem::use_action;
//!
//! #[server(endpoint = "like")]
//! pub async fn like() -> Result<i64, ServerFnError> {
//!     Ok(1)
//! }
//!
//! #[component]
//! fn LikeButton(initial: i64) -> impl IntoView {
//!     let action = use_action(|_: &()| like());
//!     let total = move || action.value().get().and_then(Result::ok).unwrap_or(initial);
//!     view! {
//!         <p>"Total Likes: " {total}</p>
//!         <button on:click=move |_| action.dispatch(())>"Like"</button>
//!     }
//! }
//! ```

use crate::queue::DispatchQueue;
use leptos::prelude::*;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

type BoxedRun<I, O> = Arc<dyn Fn(&I) -> Pin<Box<dyn Future<Output = O> + Send>> + Send + Sync>;

/// A handle to an async operation dispatched from the browser. `Copy`, so it
/// moves freely into event handlers.
///
/// ```no_run
/// use leptos::prelude::*;
/// let double = tandem::use_action(|n: &i32| {
///     let n = *n;
///     async move { n * 2 }
/// });
/// double.dispatch(21);
/// let shown = move || double.value().get(); // Some(42) once it settles
/// ```
pub struct Action<I: 'static, O: 'static> {
    run: StoredValue<BoxedRun<I, O>>,
    queue: StoredValue<Option<DispatchQueue>>,
    value: RwSignal<Option<O>>,
    in_flight: RwSignal<usize>,
    version: RwSignal<usize>,
    dispatched: StoredValue<usize>,
}

impl<I: 'static, O: 'static> Clone for Action<I, O> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<I: 'static, O: 'static> Copy for Action<I, O> {}

/// Creates an [`Action`] that runs through the page's FIFO dispatch queue.
///
/// `f` receives a reference to the dispatched input and returns the future
/// to run (clone what it needs from the input).
///
/// ```no_run
/// use leptos::prelude::*;
/// let save = tandem::use_action(|text: &String| {
///     let text = text.clone();
///     async move { text.len() }
/// });
/// save.dispatch("hello".to_string());
/// ```
pub fn use_action<I, O, F, Fut>(f: F) -> Action<I, O>
where
    I: Send + Sync + 'static,
    O: Send + Sync + 'static,
    F: Fn(&I) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = O> + Send + 'static,
{
    Action::build(f, Some(DispatchQueue::global()))
}

/// Creates an [`Action`] that does not wait for other actions: its
/// dispatches may overlap, and only the newest dispatch's result is kept.
/// For reads or idempotent calls that do not need ordering.
///
/// ```no_run
/// use leptos::prelude::*;
/// let search = tandem::use_concurrent_action(|q: &String| {
///     let q = q.clone();
///     async move { vec![q] }
/// });
/// search.dispatch("rust".to_string());
/// ```
pub fn use_concurrent_action<I, O, F, Fut>(f: F) -> Action<I, O>
where
    I: Send + Sync + 'static,
    O: Send + Sync + 'static,
    F: Fn(&I) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = O> + Send + 'static,
{
    Action::build(f, None)
}

impl<I, O> Action<I, O>
where
    I: Send + Sync + 'static,
    O: Send + Sync + 'static,
{
    fn build<F, Fut>(f: F, queue: Option<DispatchQueue>) -> Self
    where
        F: Fn(&I) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = O> + Send + 'static,
    {
        let run: BoxedRun<I, O> = Arc::new(move |input: &I| Box::pin(f(input)));
        Self {
            run: StoredValue::new(run),
            queue: StoredValue::new(queue),
            value: RwSignal::new(None),
            in_flight: RwSignal::new(0),
            version: RwSignal::new(0),
            dispatched: StoredValue::new(0),
        }
    }

    /// Runs the action with `input`. Queued actions wait for their turn;
    /// the result lands in [`Action::value`].
    ///
    /// ```no_run
    /// use leptos::prelude::*;
    /// let ping = tandem::use_action(|_: &()| async { "pong" });
    /// ping.dispatch(());
    /// ```
    pub fn dispatch(&self, input: I) {
        let Some(run) = self.run.try_get_value() else {
            return; // the owning component is gone
        };
        let future = run(&input);
        let queue = self.queue.get_value();
        let ticket = self.dispatched.get_value() + 1;
        self.dispatched.set_value(ticket);
        self.in_flight.update(|n| *n += 1);
        let (value, in_flight, version, dispatched) =
            (self.value, self.in_flight, self.version, self.dispatched);
        leptos::task::spawn(async move {
            let turn = match queue.as_ref() {
                Some(queue) => Some(queue.turn().await),
                None => None,
            };
            let redirects = crate::runtime::redirects();
            let output = future.await;
            // Queued results arrive in dispatch order, so each one is the
            // newest; overlapping ones only count if nothing newer was sent.
            let newest = turn.is_some() || dispatched.try_get_value() == Some(ticket);
            // A call that ended in a redirect has no result to show (as a
            // Next.js action that throws `redirect()`).
            let redirected = crate::runtime::redirects() != redirects;
            if newest && !redirected {
                value.try_set(Some(output));
                version.try_update(|n| *n += 1);
            }
            in_flight.try_update(|n| *n = n.saturating_sub(1));
            drop(turn);
        });
    }
}

impl<I: 'static, O: 'static> Action<I, O>
where
    O: Send + Sync,
{
    /// The newest result, `None` until the first dispatch settles.
    ///
    /// ```no_run
    /// use leptos::prelude::*;
    /// let a = tandem::use_action(|_: &()| async { 1 });
    /// assert_eq!(a.value().get_untracked(), None);
    /// ```
    pub fn value(&self) -> ReadSignal<Option<O>> {
        self.value.read_only()
    }

    /// Whether a dispatch of this action is queued or running.
    ///
    /// ```no_run
    /// use leptos::prelude::*;
    /// let a = tandem::use_action(|_: &()| async { 1 });
    /// assert!(!a.pending().get_untracked());
    /// ```
    pub fn pending(&self) -> Signal<bool> {
        let in_flight = self.in_flight;
        Signal::derive(move || in_flight.get() > 0)
    }

    /// How many results have landed in [`Action::value`] so far.
    ///
    /// ```no_run
    /// use leptos::prelude::*;
    /// let a = tandem::use_action(|_: &()| async { 1 });
    /// assert_eq!(a.version().get_untracked(), 0);
    /// ```
    pub fn version(&self) -> ReadSignal<usize> {
        self.version.read_only()
    }
}
