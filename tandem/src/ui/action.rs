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
//! A call cannot hang the queue: each one has a time limit
//! ([`DEFAULT_TIMEOUT`], or [`Action::with_timeout`]) and can be aborted
//! ([`Action::abort`]). A call that times out or is aborted settles with
//! [`Action::failure`] set, keeps the last value, and the next action in
//! the queue goes.
//!
//! ```no_run
//! use leptos::prelude::*;
//! use tandem::use_action;
//!
//! #[tandem::server(endpoint = "like")]
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

use crate::ui::queue::DispatchQueue;
use futures::future::{AbortHandle, Abortable, Either};
use leptos::prelude::*;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// How long one call may take before it settles as timed out.
///
/// ```
/// assert_eq!(tandem::ui::action::DEFAULT_TIMEOUT.as_secs(), 30);
/// ```
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

type BoxedRun<I, O> = Arc<dyn Fn(&I) -> Pin<Box<dyn Future<Output = O> + Send>> + Send + Sync>;

/// Why a call settled without a value.
///
/// ```
/// let f = tandem::ui::action::ActionFailure::TimedOut(std::time::Duration::from_secs(3));
/// assert_eq!(f.to_string(), "the call took longer than 3s and was given up");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ActionFailure {
    /// It took longer than the action's time limit.
    #[error("the call took longer than {}s and was given up", .0.as_secs())]
    TimedOut(Duration),
    /// [`Action::abort`] stopped it.
    #[error("the call was aborted")]
    Aborted,
}

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
    value: RwSignal<Option<O>>,
    calls: Calls,
}

/// What the call lands with: sets the action's value (the only part of a
/// dispatch that depends on its types).
type Landing = Box<dyn FnOnce() + Send>;

/// A call, from its turn to its landing.
type Running = Pin<Box<dyn Future<Output = Landing> + Send>>;

/// The part of an [`Action`] that does not depend on its input and output
/// types: its queue, time limit, pending count and the calls running. One
/// copy of the dispatch machinery serves every action (it was compiled once
/// per action type before: 20 KB more of raw wasm in the demo).
#[derive(Clone, Copy)]
struct Calls {
    queue: StoredValue<Option<DispatchQueue>>,
    timeout: StoredValue<Duration>,
    failure: RwSignal<Option<ActionFailure>>,
    in_flight: RwSignal<usize>,
    version: RwSignal<usize>,
    dispatched: StoredValue<usize>,
    running: StoredValue<Vec<(usize, AbortHandle)>>,
}

impl Calls {
    fn new(queue: Option<DispatchQueue>) -> Self {
        Self {
            queue: StoredValue::new(queue),
            timeout: StoredValue::new(DEFAULT_TIMEOUT),
            failure: RwSignal::new(None),
            in_flight: RwSignal::new(0),
            version: RwSignal::new(0),
            dispatched: StoredValue::new(0),
            running: StoredValue::new(Vec::new()),
        }
    }

    /// Runs `call` when its turn comes, within the time limit, and lands
    /// it if it is still the newest.
    fn dispatch(self, call: Running) {
        let Some(queue) = self.queue.try_get_value() else {
            return; // the owning component is gone
        };
        let timeout = self.timeout.get_value();
        let ticket = self.dispatched.get_value() + 1;
        self.dispatched.set_value(ticket);
        self.in_flight.update(|n| *n += 1);
        let (abort, registration) = AbortHandle::new_pair();
        self.running.update_value(|r| r.push((ticket, abort)));
        let Calls {
            failure,
            in_flight,
            version,
            dispatched,
            running,
            ..
        } = self;
        // Waiting for the turn is part of the call: an abort stops a queued
        // call before it sends anything. The time limit starts with the turn
        // (and so does the call: `call` is first polled then).
        let wait_and_run = async move {
            let turn = match queue.as_ref() {
                Some(queue) => Some(queue.turn().await),
                None => None,
            };
            let redirects = crate::ui::page::redirects();
            match futures::future::select(call, Box::pin(sleep(timeout))).await {
                Either::Left((landing, _)) => Ok((landing, turn, redirects)),
                // Dropping the call aborts its request and frees the turn.
                Either::Right(((), _)) => Err(ActionFailure::TimedOut(timeout)),
            }
        };
        let call = Abortable::new(wait_and_run, registration);
        leptos::task::spawn(async move {
            let outcome = match call.await {
                Ok(Ok((landing, turn, redirects))) => {
                    // Queued results arrive in dispatch order, so each one is
                    // the newest; overlapping ones only count if nothing newer
                    // was sent.
                    let newest = turn.is_some() || dispatched.try_get_value() == Some(ticket);
                    // A call that ended in a redirect has no result to show
                    // (as a Next.js action that throws `redirect()`).
                    let redirected = crate::ui::page::redirects() != redirects;
                    if newest && !redirected {
                        landing();
                        failure.try_set(None);
                        version.try_update(|n| *n += 1);
                    }
                    drop(turn);
                    None
                }
                Ok(Err(timed_out)) => Some(timed_out),
                Err(_aborted) => Some(ActionFailure::Aborted),
            };
            if let Some(why) = outcome {
                failure.try_set(Some(why));
            }
            running.try_update_value(|r| r.retain(|(t, _)| *t != ticket));
            in_flight.try_update(|n| *n = n.saturating_sub(1));
        });
    }

    fn abort(self) {
        self.running
            .try_update_value(|running| {
                for (_, handle) in running.iter() {
                    handle.abort();
                }
            })
            .unwrap_or_default();
    }
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
/// to run (clone what it needs from the input). It is called when the
/// dispatch's turn comes, so it sees what the calls before it left.
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
            value: RwSignal::new(None),
            calls: Calls::new(queue),
        }
    }

    /// The same action, each call limited to `timeout` (default
    /// [`DEFAULT_TIMEOUT`]).
    ///
    /// ```no_run
    /// use leptos::prelude::*;
    /// let slow = tandem::use_action(|_: &()| async { 1 })
    ///     .with_timeout(std::time::Duration::from_secs(5));
    /// ```
    pub fn with_timeout(self, timeout: Duration) -> Self {
        self.calls.timeout.set_value(timeout);
        self
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
        let value = self.value;
        self.calls.dispatch(Box::pin(async move {
            let output = run(&input).await;
            Box::new(move || {
                value.try_set(Some(output));
            }) as Landing
        }));
    }

    /// Stops every call of this action that is queued or running: each one
    /// settles as [`ActionFailure::Aborted`] and the queue moves on.
    ///
    /// ```no_run
    /// use leptos::prelude::*;
    /// let save = tandem::use_action(|_: &()| async { 1 });
    /// save.dispatch(());
    /// save.abort();
    /// ```
    pub fn abort(&self) {
        self.calls.abort();
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

    /// Why the last call settled without a value (timed out, aborted);
    /// `None` once a call lands.
    ///
    /// ```no_run
    /// use leptos::prelude::*;
    /// let a = tandem::use_action(|_: &()| async { 1 });
    /// let failed = move || a.failure().get().map(|f| f.to_string());
    /// ```
    pub fn failure(&self) -> ReadSignal<Option<ActionFailure>> {
        self.calls.failure.read_only()
    }

    /// Whether a dispatch of this action is queued or running.
    ///
    /// ```no_run
    /// use leptos::prelude::*;
    /// let a = tandem::use_action(|_: &()| async { 1 });
    /// assert!(!a.pending().get_untracked());
    /// ```
    pub fn pending(&self) -> Signal<bool> {
        let in_flight = self.calls.in_flight;
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
        self.calls.version.read_only()
    }
}

/// Resolves after `duration`: a browser timer, or Tokio's on the server
/// (where actions run only in tests).
fn sleep(duration: Duration) -> impl Future<Output = ()> + Send + 'static {
    #[cfg(any(feature = "hydrate", feature = "csr"))]
    {
        let (done, wait) = futures::channel::oneshot::channel::<()>();
        set_timeout(
            move || {
                let _ = done.send(());
            },
            duration,
        );
        async move {
            let _ = wait.await;
        }
    }
    #[cfg(all(feature = "ssr", not(any(feature = "hydrate", feature = "csr"))))]
    {
        tokio::time::sleep(duration)
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate", feature = "csr")))]
    {
        let _ = duration;
        std::future::pending::<()>()
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use futures::channel::oneshot;
    use std::sync::Mutex;

    /// Actions spawn on Leptos's executor: Tokio's, in these tests.
    fn executor() {
        let _ = any_spawner::Executor::init_tokio();
    }

    /// A call each test settles by hand: `(input, sender of its output)`.
    type Pending = Arc<Mutex<Vec<(u32, oneshot::Sender<u32>)>>>;

    /// A call made by hand: its future.
    type Call = Pin<Box<dyn Future<Output = u32> + Send>>;

    fn controlled() -> (
        Pending,
        impl Fn(&u32) -> Call + Clone + Send + Sync + 'static,
    ) {
        let pending: Pending = Arc::default();
        let calls = pending.clone();
        let f = move |input: &u32| -> Call {
            let (tx, rx) = oneshot::channel();
            calls.lock().expect("lock").push((*input, tx));
            Box::pin(async move { rx.await.unwrap_or(0) })
        };
        (pending, f)
    }

    async fn until(what: &str, mut done: impl FnMut() -> bool) {
        for _ in 0..500 {
            if done() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        panic!("{what}");
    }

    fn settle(pending: &Pending, input: u32, output: u32) {
        let mut calls = pending.lock().expect("lock");
        let at = calls.iter().position(|(i, _)| *i == input).expect("a call");
        let (_, tx) = calls.remove(at);
        let _ = tx.send(output);
    }

    #[tokio::test]
    async fn overlapping_calls_keep_the_newest_dispatchs_result() {
        executor();
        let owner = Owner::new();
        owner.set();
        let (pending, f) = controlled();
        let action = use_concurrent_action(f);
        action.dispatch(1);
        action.dispatch(2);
        until("both sent", || pending.lock().expect("lock").len() == 2).await;
        settle(&pending, 2, 20);
        until("the newest landed", || {
            action.value().get_untracked() == Some(20)
        })
        .await;
        settle(&pending, 1, 10);
        until("settled", || !action.pending().get_untracked()).await;
        assert_eq!(
            action.value().get_untracked(),
            Some(20),
            "an older result never wins"
        );
        assert_eq!(action.version().get_untracked(), 1);
    }

    #[tokio::test]
    async fn queued_calls_run_one_at_a_time_in_order() {
        executor();
        let owner = Owner::new();
        owner.set();
        let (pending, f) = controlled();
        let action = Action::build(f, Some(DispatchQueue::new()));
        action.dispatch(1);
        action.dispatch(2);
        until("the first sent", || {
            pending.lock().expect("lock").len() == 1
        })
        .await;
        // The second is not even made before the first settles.
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(pending.lock().expect("lock").len(), 1);
        settle(&pending, 1, 10);
        until("the first landed", || {
            action.value().get_untracked() == Some(10)
        })
        .await;
        until("the second sent", || {
            pending.lock().expect("lock").len() == 1
        })
        .await;
        settle(&pending, 2, 20);
        until("the second landed", || {
            action.value().get_untracked() == Some(20)
        })
        .await;
    }

    #[tokio::test]
    async fn a_hung_call_times_out_and_the_queue_moves_on() {
        executor();
        let owner = Owner::new();
        owner.set();
        let (pending, f) = controlled();
        let action =
            Action::build(f, Some(DispatchQueue::new())).with_timeout(Duration::from_millis(50));
        action.dispatch(1); // never settled
        action.dispatch(2);
        until("the first timed out", || {
            action.failure().get_untracked()
                == Some(ActionFailure::TimedOut(Duration::from_millis(50)))
        })
        .await;
        until("the second sent", || {
            pending.lock().expect("lock").iter().any(|(i, _)| *i == 2)
        })
        .await;
        settle(&pending, 2, 20);
        until("the second landed", || {
            action.value().get_untracked() == Some(20)
        })
        .await;
        assert_eq!(
            action.failure().get_untracked(),
            None,
            "cleared once a call lands"
        );
        until("settled", || !action.pending().get_untracked()).await;
    }

    #[tokio::test]
    async fn abort_stops_running_and_queued_calls() {
        executor();
        let owner = Owner::new();
        owner.set();
        let (pending, f) = controlled();
        let action = Action::build(f, Some(DispatchQueue::new()));
        action.dispatch(1);
        action.dispatch(2);
        until("the first sent", || {
            pending.lock().expect("lock").len() == 1
        })
        .await;
        action.abort();
        until("both settled", || !action.pending().get_untracked()).await;
        assert_eq!(
            action.failure().get_untracked(),
            Some(ActionFailure::Aborted)
        );
        assert_eq!(action.value().get_untracked(), None);
        // The queue is free: a new call runs.
        action.dispatch(3);
        until("the third sent", || {
            pending.lock().expect("lock").iter().any(|(i, _)| *i == 3)
        })
        .await;
        settle(&pending, 3, 30);
        until("the third landed", || {
            action.value().get_untracked() == Some(30)
        })
        .await;
    }
}
