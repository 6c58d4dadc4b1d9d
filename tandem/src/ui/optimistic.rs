//! Optimistic values: show the expected result while an action runs.
//!
//! [`use_optimistic`] is React's `useOptimistic`: it follows a base value
//! (usually server state) and, while `pending` is true, shows the base with
//! the updates added through [`Optimistic::add`]. When the action settles
//! the updates are spent, so the value is the base again: the server's
//! new state on success, the old one on error (the optimistic update
//! reverts).
//!
//! ```no_run
//! use leptos::prelude::*;
//! let likes = RwSignal::new(10);
//! let action = tandem::use_action(|_: &()| async { 11 });
//! let optimistic = tandem::use_optimistic(likes.into(), action.pending(), |n: &i32, by: &i32| n + by);
//! optimistic.add(1);
//! action.dispatch(());
//! let shown = move || optimistic.value().get(); // 11 at once
//! ```

use leptos::prelude::*;
use std::sync::Arc;

type Reducer<T, A> = Arc<dyn Fn(&T, &A) -> T + Send + Sync>;

/// An optimistic value; `Copy`.
///
/// ```no_run
/// use leptos::prelude::*;
/// let base = RwSignal::new(vec!["a".to_string()]);
/// let pending = RwSignal::new(false);
/// let list = tandem::use_optimistic(base.into(), pending.into(), |l: &Vec<String>, s: &String| {
///     let mut l = l.clone();
///     l.push(s.clone());
///     l
/// });
/// ```
pub struct Optimistic<T: Send + Sync + 'static, A: Send + Sync + 'static> {
    base: Signal<T>,
    pending: Signal<bool>,
    updates: RwSignal<Vec<A>>,
    reducer: StoredValue<Reducer<T, A>>,
}

impl<T: Send + Sync + 'static, A: Send + Sync + 'static> Clone for Optimistic<T, A> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: Send + Sync + 'static, A: Send + Sync + 'static> Copy for Optimistic<T, A> {}

/// Creates an [`Optimistic`] value over `base`, reverting whenever
/// `pending` turns false.
///
/// ```no_run
/// use leptos::prelude::*;
/// let base = RwSignal::new(0);
/// let pending = RwSignal::new(false);
/// let o = tandem::use_optimistic(base.into(), pending.into(), |n: &i32, d: &i32| n + d);
/// ```
pub fn use_optimistic<T, A>(
    base: Signal<T>,
    pending: Signal<bool>,
    reducer: impl Fn(&T, &A) -> T + Send + Sync + 'static,
) -> Optimistic<T, A>
where
    T: Clone + Send + Sync + 'static,
    A: Clone + Send + Sync + 'static,
{
    let updates = RwSignal::new(Vec::<A>::new());
    Optimistic {
        base,
        pending,
        updates,
        reducer: StoredValue::new(Arc::new(reducer)),
    }
}

impl<T, A> Optimistic<T, A>
where
    T: Clone + Send + Sync + 'static,
    A: Clone + Send + Sync + 'static,
{
    /// The base with the pending updates applied.
    ///
    /// ```no_run
    /// # use leptos::prelude::*;
    /// # let o = tandem::use_optimistic(Signal::derive(|| 1), Signal::derive(|| false), |n: &i32, d: &i32| n + d);
    /// let now = o.value().get();
    /// ```
    pub fn value(&self) -> Signal<T> {
        let (base, pending, updates, reducer) =
            (self.base, self.pending, self.updates, self.reducer);
        Signal::derive(move || {
            if !pending.get() {
                return base.get();
            }
            let reducer = reducer.get_value();
            updates.with(|ups| {
                ups.iter()
                    .fold(base.get(), |acc, update| reducer(&acc, update))
            })
        })
    }

    /// Adds an optimistic update, shown until the action settles.
    ///
    /// ```no_run
    /// # use leptos::prelude::*;
    /// # let o = tandem::use_optimistic(Signal::derive(|| 1), Signal::derive(|| true), |n: &i32, d: &i32| n + d);
    /// o.add(1);
    /// ```
    pub fn add(&self, update: A) {
        let settled = !self.pending.get_untracked();
        self.updates.update(|u| {
            // Updates from actions that have settled are spent.
            if settled {
                u.clear();
            }
            u.push(update)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_updates_while_pending_and_reverts_when_settled() {
        let owner = Owner::new();
        owner.with(|| {
            let base = RwSignal::new(10);
            let pending = RwSignal::new(false);
            let o = use_optimistic(base.into(), pending.into(), |n: &i32, d: &i32| n + d);
            o.add(1); // added just before the dispatch
            pending.set(true);
            o.add(2); // and one more while it runs
            assert_eq!(o.value().get_untracked(), 13);
            // The action failed: the base did not change, the value reverts.
            pending.set(false);
            assert_eq!(o.value().get_untracked(), 10);
            // A successful one: the base moves to the server's value.
            o.add(1);
            pending.set(true);
            assert_eq!(o.value().get_untracked(), 11);
            base.set(11);
            assert_eq!(o.value().get_untracked(), 12);
            pending.set(false);
            assert_eq!(o.value().get_untracked(), 11);
        });
    }
}
