//! The browser side of one page: the queries it has mounted, how to
//! navigate, and applying what an action's response carries.
//!
//! Everything here is per browser tab (one thread); on the server the
//! functions are inert.

use crate::flight::{Effects, QueryResult};

#[cfg(any(feature = "hydrate", feature = "csr"))]
mod browser {
    use crate::flight::{path_of, Effects, MountedQuery, QueryResult, MAX_QUERIES};
    use futures::future::LocalBoxFuture;
    use std::cell::{Cell, RefCell};
    use std::collections::BTreeMap;
    use std::rc::Rc;

    /// A query mounted on the page.
    pub struct Registered {
        /// What the server needs to run it again.
        pub query: MountedQuery,
        /// Puts a fresh result (status, body) in place.
        pub apply: Rc<dyn Fn(u16, Vec<u8>)>,
        /// Reads it again from the browser.
        pub refetch: Rc<dyn Fn() -> LocalBoxFuture<'static, ()>>,
    }

    type Navigate = Rc<dyn Fn(&str)>;

    thread_local! {
        static QUERIES: RefCell<BTreeMap<u64, Registered>> = const { RefCell::new(BTreeMap::new()) };
        static NEXT_ID: Cell<u64> = const { Cell::new(0) };
        static NAVIGATE: RefCell<Option<Navigate>> = const { RefCell::new(None) };
        static REDIRECTS: Cell<u64> = const { Cell::new(0) };
    }

    pub fn register_query(registered: Registered) -> u64 {
        let id = NEXT_ID.with(|n| {
            let id = n.get();
            n.set(id + 1);
            id
        });
        QUERIES.with(|q| q.borrow_mut().insert(id, registered));
        id
    }

    pub fn unregister_query(id: u64) {
        QUERIES.with(|q| q.borrow_mut().remove(&id));
    }

    /// The distinct queries mounted now, at most [`MAX_QUERIES`] (the rest
    /// are read again from the browser when needed).
    pub fn mounted() -> Vec<MountedQuery> {
        QUERIES.with(|q| {
            let mut seen: Vec<MountedQuery> = Vec::new();
            for r in q.borrow().values() {
                if !seen.contains(&r.query) && seen.len() < MAX_QUERIES {
                    seen.push(r.query.clone());
                }
            }
            seen
        })
    }

    pub fn set_navigate(navigate: Navigate) {
        NAVIGATE.with(|n| *n.borrow_mut() = Some(navigate));
    }

    pub fn redirects() -> u64 {
        REDIRECTS.with(Cell::get)
    }

    pub fn current_path() -> Option<String> {
        web_sys::window()?.location().pathname().ok()
    }

    pub async fn refetch_all() {
        let all: Vec<_> =
            QUERIES.with(|q| q.borrow().values().map(|r| r.refetch.clone()).collect());
        futures::future::join_all(all.iter().map(|f| f())).await;
    }

    pub async fn apply(effects: Effects, results: Vec<QueryResult>) {
        if let Some(to) = effects.redirect.as_deref() {
            REDIRECTS.with(|r| r.set(r.get() + 1));
            if current_path().as_deref() != Some(path_of(to)) {
                // Another page: it loads its own data when it mounts.
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
        if !effects.page_data_changed() && effects.redirect.is_none() {
            return;
        }
        // Fresh values the server sent; anything it did not send is read
        // again from here.
        let mut stale = Vec::new();
        QUERIES.with(|q| {
            for r in q.borrow().values() {
                match results.iter().find(|res| res.query == r.query) {
                    Some(res) => (r.apply)(res.status, res.body.clone().into_bytes()),
                    None => stale.push(r.refetch.clone()),
                }
            }
        });
        futures::future::join_all(stale.iter().map(|f| f())).await;
    }
}

#[cfg(any(feature = "hydrate", feature = "csr"))]
pub(crate) use browser::{
    current_path, mounted, redirects, refetch_all, register_query, set_navigate, unregister_query,
    Registered,
};

/// Applies an action's response in the browser: navigates on a redirect to
/// another page, puts the fresh query data in place (reading again what the
/// server did not send). Resolves once the page shows fresh data.
pub(crate) async fn apply(effects: Effects, results: Vec<QueryResult>) {
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
