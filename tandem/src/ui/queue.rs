//! The client dispatch queue: actions take turns, first come, first served.
//!
//! Next.js runs server actions one at a time so that quick clicks never race.
//! Tandem does the same with a [`DispatchQueue`]: every queued action awaits
//! its [`Turn`] before it sends its request, and gives the turn to the next
//! waiter when it settles (when the `Turn` is dropped). A waiter that is
//! dropped before its turn comes (an action cancelled, a component unmounted)
//! is skipped, so the queue never stalls.
//!
//! ```
//! use tandem::DispatchQueue;
//! # futures::executor::block_on(async {
//! let queue = DispatchQueue::new();
//! let first = queue.turn().await;
//! assert!(queue.is_busy());
//! drop(first); // the next waiter (if any) runs now
//! assert!(!queue.is_busy());
//! # });
//! ```

use futures::channel::oneshot;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll};

/// A first-in, first-out queue of actions. Cheap to clone: clones share the
/// same queue.
///
/// ```
/// use tandem::DispatchQueue;
/// let queue = DispatchQueue::global();
/// assert!(!queue.is_busy());
/// ```
#[derive(Clone, Default)]
pub struct DispatchQueue {
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    /// Whether some holder currently has the turn.
    busy: bool,
    /// Waiters, oldest first.
    waiters: VecDeque<oneshot::Sender<()>>,
}

impl DispatchQueue {
    /// A new, empty queue.
    ///
    /// ```
    /// let queue = tandem::DispatchQueue::new();
    /// assert_eq!(queue.waiting(), 0);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// The queue that every [`Action`](crate::Action) of the page shares,
    /// unless it opted into concurrency.
    ///
    /// ```
    /// let a = tandem::DispatchQueue::global();
    /// let b = tandem::DispatchQueue::global();
    /// assert!(a.same_queue(&b));
    /// ```
    pub fn global() -> Self {
        static GLOBAL: OnceLock<DispatchQueue> = OnceLock::new();
        GLOBAL.get_or_init(DispatchQueue::new).clone()
    }

    /// Whether two handles name the same queue.
    ///
    /// ```
    /// let q = tandem::DispatchQueue::new();
    /// assert!(q.same_queue(&q.clone()));
    /// assert!(!q.same_queue(&tandem::DispatchQueue::new()));
    /// ```
    pub fn same_queue(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.state, &other.state)
    }

    /// Waits for this caller's turn. Turns are handed out in the order
    /// `turn()` was called; the turn ends when the returned [`Turn`] drops.
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let queue = tandem::DispatchQueue::new();
    /// let turn = queue.turn().await;
    /// drop(turn);
    /// # });
    /// ```
    pub fn turn(&self) -> WaitForTurn {
        let mut state = self.lock();
        let receiver = if state.busy {
            let (sender, receiver) = oneshot::channel();
            state.waiters.push_back(sender);
            Some(receiver)
        } else {
            state.busy = true;
            None
        };
        WaitForTurn {
            queue: self.clone(),
            receiver,
            done: false,
        }
    }

    /// Whether an action holds the turn right now.
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let queue = tandem::DispatchQueue::new();
    /// let turn = queue.turn().await;
    /// assert!(queue.is_busy());
    /// # drop(turn);
    /// # });
    /// ```
    pub fn is_busy(&self) -> bool {
        self.lock().busy
    }

    /// How many callers wait behind the current holder.
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let queue = tandem::DispatchQueue::new();
    /// let held = queue.turn().await;
    /// let _next = queue.turn();
    /// assert_eq!(queue.waiting(), 1);
    /// # drop(held);
    /// # });
    /// ```
    pub fn waiting(&self) -> usize {
        self.lock().waiters.len()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is a flag and a list: it stays consistent even if a
        // holder panicked, so a poisoned lock is safe to keep using.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Hands the turn to the oldest waiter still listening, or frees it.
    fn release(&self) {
        let mut state = self.lock();
        while let Some(next) = state.waiters.pop_front() {
            if next.send(()).is_ok() {
                return;
            }
        }
        state.busy = false;
    }
}

/// The future returned by [`DispatchQueue::turn`]; resolves to a [`Turn`].
///
/// Dropping it before it resolves gives up the place in the queue.
///
/// ```
/// # futures::executor::block_on(async {
/// let queue = tandem::DispatchQueue::new();
/// let wait: tandem::WaitForTurn = queue.turn();
/// let _turn = wait.await;
/// # });
/// ```
#[must_use = "a turn is only taken when awaited"]
pub struct WaitForTurn {
    queue: DispatchQueue,
    receiver: Option<oneshot::Receiver<()>>,
    done: bool,
}

impl Future for WaitForTurn {
    type Output = Turn;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Turn> {
        if let Some(receiver) = self.receiver.as_mut() {
            match Pin::new(receiver).poll(cx) {
                Poll::Pending => return Poll::Pending,
                // Err means the queue itself is gone; nobody else can hold
                // the turn then, so going ahead is safe.
                Poll::Ready(_) => {}
            }
        }
        self.done = true;
        Poll::Ready(Turn {
            queue: self.queue.clone(),
        })
    }
}

impl Drop for WaitForTurn {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        match self.receiver.as_mut() {
            // Never waited: this caller held the turn from the start.
            None => self.queue.release(),
            // The turn was handed over but never taken: pass it on.
            Some(receiver) => {
                if let Ok(Some(())) = receiver.try_recv() {
                    self.queue.release();
                }
            }
        }
    }
}

/// Holding a `Turn` means this action is the one running; dropping it lets
/// the next queued action go.
///
/// ```
/// # futures::executor::block_on(async {
/// let queue = tandem::DispatchQueue::new();
/// let turn: tandem::Turn = queue.turn().await;
/// drop(turn);
/// assert!(!queue.is_busy());
/// # });
/// ```
pub struct Turn {
    queue: DispatchQueue,
}

impl Drop for Turn {
    fn drop(&mut self) {
        self.queue.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::LocalPool;
    use futures::task::LocalSpawnExt;
    use std::cell::RefCell;
    use std::rc::Rc;

    /// Gives other tasks a chance to run (and asks to be polled again).
    async fn yield_now() {
        let mut yielded = false;
        std::future::poll_fn(|cx| {
            if yielded {
                Poll::Ready(())
            } else {
                yielded = true;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        })
        .await
    }

    /// Runs `n` tasks that each take a turn, yield a few times while holding
    /// it, and log start and end: the log must show them one at a time, in
    /// the order they queued.
    #[test]
    fn turns_are_first_in_first_out_and_exclusive() {
        let mut pool = LocalPool::new();
        let queue = DispatchQueue::new();
        let log = Rc::new(RefCell::new(Vec::new()));
        for i in 0..5 {
            let wait = queue.turn();
            let log = log.clone();
            pool.spawner()
                .spawn_local(async move {
                    let _turn = wait.await;
                    log.borrow_mut().push(format!("start {i}"));
                    for _ in 0..(5 - i) {
                        yield_now().await;
                    }
                    log.borrow_mut().push(format!("end {i}"));
                })
                .expect("spawn");
        }
        pool.run();
        let expected: Vec<String> = (0..5)
            .flat_map(|i| [format!("start {i}"), format!("end {i}")])
            .collect();
        assert_eq!(*log.borrow(), expected);
        assert!(!queue.is_busy());
    }

    #[test]
    fn dropped_waiter_is_skipped() {
        let mut pool = LocalPool::new();
        let queue = DispatchQueue::new();
        let first = pool.run_until(queue.turn());
        let abandoned = queue.turn();
        let third = queue.turn();
        assert_eq!(queue.waiting(), 2);
        drop(abandoned);
        drop(first);
        let turn = pool.run_until(third);
        assert!(queue.is_busy());
        drop(turn);
        assert!(!queue.is_busy());
    }

    #[test]
    fn turn_handed_over_but_never_polled_is_passed_on() {
        let mut pool = LocalPool::new();
        let queue = DispatchQueue::new();
        let first = pool.run_until(queue.turn());
        let second = queue.turn();
        let third = queue.turn();
        drop(first); // hands the turn to `second`, which never polls it
        drop(second); // so `second` must pass it on to `third`
        let turn = pool.run_until(third);
        drop(turn);
        assert!(!queue.is_busy());
    }

    #[test]
    fn first_caller_dropping_without_polling_frees_the_queue() {
        let queue = DispatchQueue::new();
        drop(queue.turn());
        assert!(!queue.is_busy());
    }
}
