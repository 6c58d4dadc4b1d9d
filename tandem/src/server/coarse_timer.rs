//! The clock of [`serve`](super::serve())'s header-read timeout: a coarse
//! timer for hyper.
//!
//! Hyper sets a fresh deadline each time a keep-alive connection waits for
//! its next request head. With tokio's timer, setting one while the
//! runtime's timer driver is parked with nothing to wait for wakes the
//! driver (a write to its eventfd, then a thread switch), once for most
//! requests under load; measured, that is 0.8 wakes and 4–6 µs of CPU
//! per request on two cores. Here a deadline only joins a list, under a
//! lock, and one task looks the list over every tick: it wakes the sleeps
//! whose deadline has passed and forgets those dropped in time (a request
//! head that arrived). A deadline fires within one tick after it passes;
//! the tick is a tenth of the timeout (between 10 ms and 1 s).
//!
//! The task waits for a deadline to be listed when none is, so an idle
//! server does not tick; it ends when the timer and all its sleeps are gone.

use futures::task::AtomicWaker;
use hyper::rt::{Sleep, Timer};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// A [`Timer`] whose sleeps are woken by one ticking task (see the
/// [module docs](self)). Clones share the list and the task.
#[derive(Clone)]
pub(crate) struct CoarseTimer {
    shared: Arc<Shared>,
}

struct Shared {
    /// The sleeps polled before their deadline and not yet looked over.
    waiting: Mutex<Vec<Weak<Entry>>>,
    /// Tells the task a first sleep is waiting (or that the timer is gone).
    listed: Arc<Notify>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        // The task is waiting for a listing: let it see the timer is gone.
        self.listed.notify_one();
    }
}

/// A deadline, shared by its sleep and the list.
struct Entry {
    deadline: Instant,
    waker: AtomicWaker,
}

impl CoarseTimer {
    /// A timer that looks its deadlines over every `tick`; starts its task
    /// on the current tokio runtime.
    pub(crate) fn new(tick: Duration) -> Self {
        let listed = Arc::new(Notify::new());
        let shared = Arc::new(Shared {
            waiting: Mutex::new(Vec::new()),
            listed: listed.clone(),
        });
        tokio::spawn(tick_over(Arc::downgrade(&shared), listed, tick));
        Self { shared }
    }

    /// The tick for a timeout: a tenth of it, between 10 ms and 1 s.
    pub(crate) fn tick_for(timeout: Duration) -> Duration {
        (timeout / 10).clamp(Duration::from_millis(10), Duration::from_secs(1))
    }

    #[cfg(test)]
    fn waiting(&self) -> usize {
        lock(&self.shared.waiting).len()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// The ticking task: waits for a first listing, then every `tick` wakes
/// the sleeps past their deadline and drops the ones gone, until the list
/// is empty again.
async fn tick_over(shared: Weak<Shared>, listed: Arc<Notify>, tick: Duration) {
    loop {
        listed.notified().await;
        loop {
            tokio::time::sleep(tick).await;
            let Some(shared) = shared.upgrade() else {
                return;
            };
            let now = Instant::now();
            let mut waiting = lock(&shared.waiting);
            waiting.retain(|entry| match entry.upgrade() {
                None => false,
                Some(entry) if entry.deadline <= now => {
                    entry.waker.wake();
                    false
                }
                Some(_) => true,
            });
            if waiting.is_empty() {
                break;
            }
        }
        if shared.strong_count() == 0 {
            return;
        }
    }
}

impl Timer for CoarseTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Sleep>> {
        self.sleep_until(Instant::now() + duration)
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn Sleep>> {
        Box::pin(CoarseSleep {
            entry: Arc::new(Entry {
                deadline,
                waker: AtomicWaker::new(),
            }),
            shared: self.shared.clone(),
            listed: false,
        })
    }
}

/// One deadline; listed the first time it is polled before it passes.
struct CoarseSleep {
    entry: Arc<Entry>,
    shared: Arc<Shared>,
    listed: bool,
}

impl Future for CoarseSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.entry.deadline {
            return Poll::Ready(());
        }
        // Registered before it is listed: the task's look-over that finds
        // it past its deadline finds this waker.
        self.entry.waker.register(cx.waker());
        if !self.listed {
            self.listed = true;
            let mut waiting = lock(&self.shared.waiting);
            if waiting.is_empty() {
                self.shared.listed.notify_one();
            }
            waiting.push(Arc::downgrade(&self.entry));
        }
        Poll::Pending
    }
}

impl Sleep for CoarseSleep {}

#[cfg(test)]
mod tests {
    use super::*;

    /// `sleep`, failing the test if it has not ended within 2 s.
    async fn ends(sleep: Pin<Box<dyn Sleep>>) {
        tokio::time::timeout(Duration::from_secs(2), sleep)
            .await
            .expect("the sleep never ended");
    }

    #[test]
    fn the_tick_is_a_tenth_of_the_timeout_within_bounds() {
        let tick = CoarseTimer::tick_for;
        assert_eq!(tick(Duration::from_secs(10)), Duration::from_secs(1));
        assert_eq!(tick(Duration::from_millis(300)), Duration::from_millis(30));
        assert_eq!(tick(Duration::from_millis(20)), Duration::from_millis(10));
        assert_eq!(tick(Duration::from_secs(3600)), Duration::from_secs(1));
    }

    #[tokio::test]
    async fn a_sleep_ends_after_its_deadline_within_a_tick() {
        let timer = CoarseTimer::new(Duration::from_millis(10));
        let start = Instant::now();
        ends(timer.sleep(Duration::from_millis(60))).await;
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(60), "ended early: {took:?}");
        assert!(took < Duration::from_millis(500), "ended late: {took:?}");
        // Another one later, after the list went empty and the task idle.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let start = Instant::now();
        ends(timer.sleep(Duration::from_millis(30))).await;
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(30), "ended early: {took:?}");
        assert!(took < Duration::from_millis(500), "ended late: {took:?}");
    }

    #[tokio::test]
    async fn sleeps_end_in_their_order_and_dropped_ones_leave_the_list() {
        let timer = CoarseTimer::new(Duration::from_millis(10));
        let (sender, mut ended) = tokio::sync::mpsc::unbounded_channel();
        for (name, ms) in [("c", 150), ("a", 30), ("b", 90)] {
            let sleep = timer.sleep(Duration::from_millis(ms));
            let sender = sender.clone();
            tokio::spawn(async move {
                ends(sleep).await;
                let _ = sender.send(name);
            });
        }
        // Polled once and dropped before its deadline: a head that came.
        let mut dropped = timer.sleep(Duration::from_secs(60));
        let waker = futures::task::noop_waker();
        assert!(dropped
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
        drop(dropped);
        let mut order = Vec::new();
        for _ in 0..3 {
            let next = tokio::time::timeout(Duration::from_secs(3), ended.recv());
            order.push(next.await.ok().flatten().expect("a sleep ended"));
        }
        assert_eq!(order, ["a", "b", "c"]);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(timer.waiting(), 0, "the dropped sleep is forgotten");
    }

    #[tokio::test]
    async fn a_sleep_past_its_deadline_is_ready_at_once() {
        let timer = CoarseTimer::new(Duration::from_secs(1));
        let mut sleep = timer.sleep_until(Instant::now());
        let waker = futures::task::noop_waker();
        assert!(sleep
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_ready());
        assert_eq!(timer.waiting(), 0, "never listed");
    }

    #[tokio::test]
    async fn the_task_ends_with_the_timer() {
        let timer = CoarseTimer::new(Duration::from_millis(10));
        let listed = timer.shared.listed.clone();
        let weak = Arc::downgrade(&timer.shared);
        drop(timer);
        assert!(weak.upgrade().is_none());
        // The task was told; it holds the notifier alone once it ended.
        for _ in 0..100 {
            if Arc::strong_count(&listed) == 1 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the ticking task is still running");
    }
}
