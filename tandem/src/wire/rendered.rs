//! The queries a page read while the server rendered it: what each one
//! read and its data. The server puts a collector in the request it
//! renders; each query the page mounts adds itself. Tandem uses it to tell
//! the browser what the page's queries read, and, when an action redirects
//! to another page, to send that page's data in the same answer.

use super::envelope::FreshQuery;
use std::sync::{Arc, Mutex};

/// The collector (cheap to clone; clones share it).
#[derive(Clone, Debug, Default)]
pub(crate) struct Rendered(Arc<Mutex<Vec<FreshQuery>>>);

impl Rendered {
    /// Adds a query the page read (once per query and arguments).
    pub(crate) fn push(&self, query: FreshQuery) {
        if let Ok(mut all) = self.0.lock() {
            if !all.iter().any(|q| q.query == query.query) {
                all.push(query);
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
