//! The queries a page read while the server rendered it: what each one
//! read and its data. The server puts a collector in the request it
//! renders; each query the page mounts adds itself. Tandem writes them at
//! the end of the page, where hydration finds each query's data by its
//! function and arguments, and the next action learns what each one read;
//! when an action redirects to another page, they are that page's data in
//! the same answer.

#[cfg(feature = "ssr")]
use super::envelope::FreshQuery;
#[cfg(feature = "ssr")]
use std::sync::{Arc, Mutex};

/// The id of the data block at the end of a page: a JSON list of
/// [`FreshQuery`](super::FreshQuery), one per query and arguments the page
/// read while the server rendered it, with its data and what it read.
/// Hydration takes each query's data from here, by function and
/// arguments: not by the order Leptos created resources in, which a
/// `<Suspense>` rendered more than once on the server shifts.
///
/// ```
/// assert_eq!(tandem::wire::PAGE_DATA_SCRIPT_ID, "tandem-page-data");
/// ```
pub const PAGE_DATA_SCRIPT_ID: &str = "tandem-page-data";

/// The collector (cheap to clone; clones share it).
#[cfg(feature = "ssr")]
#[derive(Clone, Debug, Default)]
pub(crate) struct Rendered(Arc<Mutex<Vec<FreshQuery>>>);

#[cfg(feature = "ssr")]
impl Rendered {
    /// Adds a query the page read; a later read of the same query and
    /// arguments (the server rendering a `<Suspense>` again) replaces it.
    pub(crate) fn push(&self, query: FreshQuery) {
        if let Ok(mut all) = self.0.lock() {
            match all.iter_mut().find(|q| q.query == query.query) {
                Some(earlier) => *earlier = query,
                None => all.push(query),
            }
        }
    }

    /// Everything collected so far.
    pub(crate) fn take(&self) -> Vec<FreshQuery> {
        self.0
            .lock()
            .map(|mut all| std::mem::take(&mut *all))
            .unwrap_or_default()
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use crate::wire::{Body, MountedQuery};

    fn read(args: &str, body: &str) -> FreshQuery {
        FreshQuery {
            query: MountedQuery {
                path: "/api/get_comments".into(),
                args: args.into(),
            },
            status: 200,
            body: Body::from(body),
            reads: None,
        }
    }

    #[test]
    fn one_entry_per_query_and_arguments_the_latest_read_wins() {
        let rendered = Rendered::default();
        rendered.push(read("post_id=1", "[]"));
        rendered.push(read("post_id=2", "[2]"));
        rendered.push(read("post_id=1", "[1]"));
        let all = rendered.take();
        assert_eq!(
            all,
            vec![read("post_id=1", "[1]"), read("post_id=2", "[2]")]
        );
        assert!(rendered.take().is_empty(), "taken once");
    }
}
