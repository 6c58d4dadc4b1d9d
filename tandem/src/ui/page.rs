//! The browser side of one page: the queries it has mounted (with the
//! arguments on screen now, and what each read), how to navigate, and
//! applying what an action's response carries.
//!
//! Everything here is per browser tab (one thread); on the server the
//! functions are inert.

use crate::wire::{Effects, FreshQuery, Issues};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

/// What the answer to one call said besides the function's result.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Notes {
    /// What the function refused, field by field.
    pub(crate) issues: Option<Issues>,
    /// The id the server logged an unexpected failure with.
    pub(crate) error_id: Option<String>,
}

/// Where the client notes what the answer to a call said (shared with
/// the call while it runs).
#[derive(Clone, Debug, Default)]
pub(crate) struct CallNotes(Arc<Mutex<Notes>>);

impl CallNotes {
    /// Notes what an answer said.
    #[cfg_attr(not(any(feature = "hydrate", feature = "csr")), allow(dead_code))]
    pub(crate) fn note(&self, issues: Option<Issues>, error_id: Option<String>) {
        if let Ok(mut notes) = self.0.lock() {
            notes.issues = issues;
            notes.error_id = error_id;
        }
    }

    /// What was noted.
    pub(crate) fn take(&self) -> Notes {
        self.0
            .lock()
            .map(|mut notes| std::mem::take(&mut *notes))
            .unwrap_or_default()
    }
}

#[cfg(any(feature = "hydrate", feature = "csr"))]
thread_local! {
    /// The notes of the call being made (see [`calling`]).
    static CALL: std::cell::RefCell<Option<CallNotes>> = const { std::cell::RefCell::new(None) };
}

/// Runs `call` so that Tandem's client notes what its answer said in
/// `notes`.
pub(crate) fn calling<F: Future>(notes: CallNotes, call: F) -> Calling<F> {
    Calling {
        notes,
        call: Box::pin(call),
    }
}

/// A call being made (see [`calling`]).
pub(crate) struct Calling<F> {
    #[cfg_attr(not(any(feature = "hydrate", feature = "csr")), allow(dead_code))]
    notes: CallNotes,
    call: Pin<Box<F>>,
}

impl<F: Future> Future for Calling<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        #[cfg(any(feature = "hydrate", feature = "csr"))]
        let before = CALL.with(|c| c.replace(Some(self.notes.clone())));
        let polled = self.call.as_mut().poll(cx);
        #[cfg(any(feature = "hydrate", feature = "csr"))]
        CALL.with(|c| *c.borrow_mut() = before);
        polled
    }
}

/// Notes what an answer said for the call being made, if one is.
#[cfg(any(feature = "hydrate", feature = "csr"))]
pub(crate) fn note_call(issues: Option<Issues>, error_id: Option<String>) {
    CALL.with(|c| {
        if let Some(notes) = c.borrow().as_ref() {
            notes.note(issues, error_id);
        }
    });
}

#[cfg(any(feature = "hydrate", feature = "csr"))]
mod browser {
    use crate::wire::{path_of, Effects, FreshQuery, MountedQuery, Named, Reads, MAX_QUERIES};
    use futures::future::LocalBoxFuture;
    use std::any::Any;
    use std::cell::{Cell, RefCell};
    use std::future::Future;
    use std::pin::Pin;
    use std::rc::Rc;
    use std::task::{Context, Poll};

    /// A query mounted on the page.
    pub(crate) struct Registered {
        /// Its server function's path.
        pub(crate) path: &'static str,
        /// Its arguments as they are now, URL-encoded.
        pub(crate) args: Rc<dyn Fn() -> String>,
        /// Puts a fresh result (status, body) in place.
        pub(crate) apply: Rc<dyn Fn(u16, Vec<u8>)>,
        /// Reads it again from the browser.
        pub(crate) refetch: Rc<dyn Fn() -> LocalBoxFuture<'static, ()>>,
        /// Its data for its arguments now, if loaded (a `QueryResult`).
        pub(crate) current: Rc<dyn Fn() -> Option<Rc<dyn Any>>>,
    }

    /// What a query being mounted takes instead of reading (see
    /// [`carried`]).
    #[derive(Clone)]
    pub(crate) enum Carried {
        /// Its data as the server sent it (status and body).
        Fresh(FreshQuery),
        /// The data of a mounted query with the same arguments, which an
        /// action's answer did not touch (a `QueryResult`).
        Kept(Rc<dyn Any>),
    }

    impl Registered {
        fn query(&self) -> MountedQuery {
            MountedQuery {
                path: self.path.to_string(),
                args: (self.args)(),
            }
        }
    }

    type Navigate = Rc<dyn Fn(&str)>;
    type Key = (String, String);

    /// A few values by key, in a vector: a page mounts a handful of
    /// queries, and a hash map's (or a B-tree's) code for each value type
    /// would weigh more in the wasm than the scans cost.
    struct Table<K, V>(Vec<(K, V)>);

    impl<K: PartialEq, V> Table<K, V> {
        const fn new() -> Self {
            Self(Vec::new())
        }

        fn get(&self, key: &K) -> Option<&V> {
            self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
        }

        fn insert(&mut self, key: K, value: V) {
            match self.0.iter_mut().find(|(k, _)| *k == key) {
                Some((_, v)) => *v = value,
                None => self.0.push((key, value)),
            }
        }

        fn remove(&mut self, key: &K) -> Option<V> {
            let at = self.0.iter().position(|(k, _)| k == key)?;
            Some(self.0.remove(at).1)
        }

        fn clear(&mut self) {
            self.0.clear();
        }

        fn retain(&mut self, mut keep: impl FnMut(&K) -> bool) {
            self.0.retain(|(k, _)| keep(k));
        }

        fn values(&self) -> impl Iterator<Item = &V> {
            self.0.iter().map(|(_, v)| v)
        }
    }

    thread_local! {
        /// The mounted queries, by id, in the order they were mounted.
        static QUERIES: RefCell<Table<u64, Registered>> = const { RefCell::new(Table::new()) };
        static NEXT_ID: Cell<u64> = const { Cell::new(0) };
        static NAVIGATE: RefCell<Option<Navigate>> = const { RefCell::new(None) };
        static REDIRECTS: Cell<u64> = const { Cell::new(0) };
        /// What each query (path, args) read when its data was last read.
        static READS: RefCell<Table<Key, Reads>> = const { RefCell::new(Table::new()) };
        /// Whether the page's data block was read.
        static PAGE_DATA_LOADED: Cell<bool> = const { Cell::new(false) };
        /// The data the server rendered the page with, for hydration.
        static PAGE_DATA: RefCell<Table<Key, FreshQuery>> = const { RefCell::new(Table::new()) };
        /// The next page's data, carried by a redirecting action's answer.
        static PREFETCHED: RefCell<Table<Key, FreshQuery>> = const { RefCell::new(Table::new()) };
        /// The query whose request is being made (see [`reading`]).
        static CURRENT: RefCell<Option<Key>> = const { RefCell::new(None) };
        /// The data an action's answer brought, until the next task.
        static LANDING: RefCell<Table<Key, Carried>> = const { RefCell::new(Table::new()) };
    }

    /// Keeps what an action's answer left valid (its fresh data, and the
    /// data of the named queries it did not touch) until the next task:
    /// the views the answer re-renders are built before it, and a query
    /// they mount anew (a component rebuilt because its parent's data
    /// changed) takes its data from here instead of a request of its own.
    fn land(landed: Vec<(Key, Carried)>) {
        LANDING.with(|l| {
            l.borrow_mut().0 = landed;
        });
        leptos::prelude::set_timeout(
            || LANDING.with(|l| l.borrow_mut().clear()),
            std::time::Duration::ZERO,
        );
    }

    /// The data the page already has for the query `path` with `args`,
    /// if any: what the last redirect's answer carried (taken: used once),
    /// the page's own data while it hydrates, or what an action's answer
    /// landing now left valid.
    pub(crate) fn carried(path: &str, args: &str) -> Option<Carried> {
        let key = (path.to_string(), args.to_string());
        if let Some(prefetched) = PREFETCHED.with(|p| p.borrow_mut().remove(&key)) {
            if let Some(reads) = prefetched.reads.clone() {
                remember_reads(&prefetched.query, reads);
            }
            return Some(Carried::Fresh(prefetched));
        }
        if let Some(rendered) = rendered_data(&key) {
            return Some(Carried::Fresh(rendered));
        }
        LANDING.with(|l| l.borrow().get(&key).cloned())
    }

    pub(crate) fn register_query(registered: Registered) -> u64 {
        let id = NEXT_ID.with(|n| {
            let id = n.get();
            n.set(id + 1);
            id
        });
        QUERIES.with(|q| q.borrow_mut().insert(id, registered));
        id
    }

    pub(crate) fn unregister_query(id: u64) {
        QUERIES.with(|q| q.borrow_mut().remove(&id));
    }

    /// The server's data block (see
    /// [`PAGE_DATA_SCRIPT_ID`](crate::wire::PAGE_DATA_SCRIPT_ID)): each
    /// query's data, for hydration, and what it read, for the next action.
    fn load_page_data() {
        if PAGE_DATA_LOADED.with(|l| l.replace(true)) {
            return;
        }
        let text = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id(crate::wire::PAGE_DATA_SCRIPT_ID))
            .and_then(|e| e.text_content());
        // From bytes, as the envelope is read: one copy of the decoder.
        let rendered =
            text.and_then(|t| serde_json::from_slice::<Vec<FreshQuery>>(t.as_bytes()).ok());
        let Some(rendered) = rendered else {
            return;
        };
        READS.with(|r| {
            PAGE_DATA.with(|d| {
                let (mut reads, mut data) = (r.borrow_mut(), d.borrow_mut());
                for query in rendered {
                    let key = (query.query.path.clone(), query.query.args.clone());
                    if let Some(read) = query.reads.clone() {
                        reads.insert(key.clone(), read);
                    }
                    data.insert(key, query);
                }
            })
        });
    }

    /// While the page hydrates: the data the server rendered the query
    /// `key` names with. Afterwards `None`: a query mounted later
    /// (after a navigation back, say) reads fresh data.
    fn rendered_data(key: &Key) -> Option<FreshQuery> {
        let hydrating = leptos::prelude::Owner::current_shared_context()
            .is_some_and(|context| context.during_hydration());
        if !hydrating {
            PAGE_DATA.with(|d| d.borrow_mut().clear());
            return None;
        }
        load_page_data();
        PAGE_DATA.with(|d| d.borrow().get(key).cloned())
    }

    /// Remembers what a query read.
    pub(crate) fn remember_reads(query: &MountedQuery, reads: Reads) {
        READS.with(|r| {
            r.borrow_mut()
                .insert((query.path.clone(), query.args.clone()), reads)
        });
    }

    /// The distinct queries mounted now, with what each read, at most
    /// [`MAX_QUERIES`] (the rest are read again from the browser when
    /// needed).
    pub(crate) fn mounted() -> Vec<Named> {
        load_page_data();
        let queries: Vec<MountedQuery> = QUERIES.with(|q| {
            let mut seen: Vec<MountedQuery> = Vec::new();
            for r in q.borrow().values() {
                let query = r.query();
                if !seen.contains(&query) && seen.len() < MAX_QUERIES {
                    seen.push(query);
                }
            }
            seen
        });
        READS.with(|r| {
            let mut reads = r.borrow_mut();
            // Forget what queries no longer mounted read.
            reads.retain(|(path, args)| queries.iter().any(|q| q.path == *path && q.args == *args));
            queries
                .into_iter()
                .map(|query| {
                    let read = reads
                        .get(&(query.path.clone(), query.args.clone()))
                        .cloned();
                    Named { query, reads: read }
                })
                .collect()
        })
    }

    pub(crate) fn set_navigate(navigate: Navigate) {
        NAVIGATE.with(|n| *n.borrow_mut() = Some(navigate));
    }

    pub(crate) fn redirects() -> u64 {
        REDIRECTS.with(Cell::get)
    }

    pub(crate) fn current_path() -> Option<String> {
        web_sys::window()?.location().pathname().ok()
    }

    pub(crate) async fn refetch_all() {
        let all: Vec<_> =
            QUERIES.with(|q| q.borrow().values().map(|r| r.refetch.clone()).collect());
        futures::future::join_all(all.iter().map(|f| f())).await;
    }

    /// Runs `call` (a request for the query `path` with `args`) so that the
    /// client knows which query the answer is for: it remembers what the
    /// query read.
    pub(crate) fn reading<F: Future>(path: &str, args: &str, call: F) -> Reading<F> {
        Reading {
            key: (path.to_string(), args.to_string()),
            call: Box::pin(call),
        }
    }

    /// A query's request being made (see [`reading`]).
    pub(crate) struct Reading<F> {
        key: Key,
        call: Pin<Box<F>>,
    }

    impl<F: Future> Future for Reading<F> {
        type Output = F::Output;

        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
            let key = self.key.clone();
            let before = CURRENT.with(|c| c.replace(Some(key)));
            let polled = self.call.as_mut().poll(cx);
            CURRENT.with(|c| *c.borrow_mut() = before);
            polled
        }
    }

    /// The query whose request is being made now, if any.
    pub(crate) fn current_query() -> Option<MountedQuery> {
        CURRENT.with(|c| {
            c.borrow()
                .clone()
                .map(|(path, args)| MountedQuery { path, args })
        })
    }

    pub(crate) async fn apply(effects: Effects, results: Vec<FreshQuery>) {
        for result in &results {
            if let Some(reads) = &result.reads {
                remember_reads(&result.query, reads.clone());
            }
        }
        if let Some(to) = effects.redirect.as_deref() {
            REDIRECTS.with(|r| r.set(r.get() + 1));
            if current_path().as_deref() != Some(path_of(to)) {
                // Another page: the answer carried the data it mounts.
                PREFETCHED.with(|p| {
                    let mut prefetched = p.borrow_mut();
                    prefetched.clear();
                    for result in results {
                        let key = (result.query.path.clone(), result.query.args.clone());
                        prefetched.insert(key, result);
                    }
                });
                match NAVIGATE.with(|n| n.borrow().clone()) {
                    Some(navigate) => navigate(to),
                    None => {
                        if let Some(w) = web_sys::window() {
                            let _ = w.location().assign(to);
                        }
                    }
                }
                return;
            }
            // The same page: stay, and show its fresh data below.
        }
        // The server read again what the action touched among the queries
        // the request named; only those beyond what one request may name
        // are read again from here.
        let named: Vec<MountedQuery> = mounted().into_iter().map(|n| n.query).collect();
        let mut landing: Vec<(Key, Carried)> = QUERIES.with(|q| {
            q.borrow()
                .values()
                .filter_map(|r| {
                    let query = r.query();
                    let untouched =
                        named.contains(&query) && !results.iter().any(|res| res.query == query);
                    let data = untouched.then(|| (r.current)()).flatten()?;
                    Some(((query.path, query.args), Carried::Kept(data)))
                })
                .collect()
        });
        landing.extend(results.iter().map(|res| {
            let key = (res.query.path.clone(), res.query.args.clone());
            (key, Carried::Fresh(res.clone()))
        }));
        land(landing);
        if !effects.page_data_changed() && effects.redirect.is_none() {
            return;
        }
        let mut beyond = Vec::new();
        QUERIES.with(|q| {
            for r in q.borrow().values() {
                let query = r.query();
                match results.iter().find(|res| res.query == query) {
                    Some(res) => (r.apply)(res.status, res.body.clone().into_bytes()),
                    None if !named.contains(&query) => beyond.push(r.refetch.clone()),
                    None => {}
                }
            }
        });
        futures::future::join_all(beyond.iter().map(|f| f())).await;
    }
}

#[cfg(any(feature = "hydrate", feature = "csr"))]
pub(crate) use browser::{
    carried, current_path, current_query, mounted, reading, redirects, refetch_all, register_query,
    remember_reads, set_navigate, unregister_query, Carried, Registered,
};

/// Applies an action's response in the browser: navigates on a redirect to
/// another page (with the data it mounts), puts the fresh query data in
/// place. Resolves once the page shows fresh data.
pub(crate) async fn apply(effects: Effects, results: Vec<FreshQuery>) {
    #[cfg(any(feature = "hydrate", feature = "csr"))]
    browser::apply(effects, results).await;
    #[cfg(not(any(feature = "hydrate", feature = "csr")))]
    let _ = (effects, results);
}

/// How many redirects actions have followed in this tab; an action whose
/// call saw this change ended in a redirect.
#[cfg(not(any(feature = "hydrate", feature = "csr")))]
pub(crate) fn redirects() -> u64 {
    0
}
