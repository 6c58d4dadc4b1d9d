//! What a query read: the cache tags of every entry it read (its own tags,
//! and the paths of the pages that read it), so that an action reads again
//! only the queries its effects touched.
//!
//! The server records the tags while a query runs (the cache adds to the
//! scope of the running query); the reads travel with the query's data to
//! the browser, which names them again with the mounted query. A query
//! whose reads are unknown is read again after any change to the page's
//! data.

use serde::{Deserialize, Serialize};

/// Prefix of the implicit tag naming a page that read an entry.
pub const PATH_TAG: &str = "_path:";

/// Prefix of the implicit tag naming a layout (a path and everything under
/// it) whose page read an entry.
pub const LAYOUT_TAG: &str = "_layout:";

/// The tags of what a query read, in order, each once.
///
/// ```
/// let reads = tandem::wire::Reads::from(vec!["posts".to_string(), "_path:/posts".to_string()]);
/// assert!(reads.touched(&["posts".to_string()], &[], &[]));
/// assert!(reads.touched(&[], &["/posts".to_string()], &[]));
/// assert!(!reads.touched(&["price".to_string()], &["/tags".to_string()], &[]));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Reads(pub Vec<String>);

impl From<Vec<String>> for Reads {
    fn from(tags: Vec<String>) -> Self {
        Self(tags)
    }
}

impl Reads {
    /// Whether effects that invalidated `tags`, `paths` (pages, with
    /// `[param]` segments) and `layouts` touched anything read.
    pub fn touched(&self, tags: &[String], paths: &[String], layouts: &[String]) -> bool {
        self.0.iter().any(|read| {
            if tags.contains(read) {
                return true;
            }
            if let Some(path) = read.strip_prefix(PATH_TAG) {
                return paths.iter().any(|p| path_matches(p, path));
            }
            if let Some(layout) = read.strip_prefix(LAYOUT_TAG) {
                return layouts.iter().any(|l| path_matches(l, layout));
            }
            false
        })
    }

    /// Adds a tag, once.
    pub fn add(&mut self, tag: &str) {
        if !self.0.iter().any(|t| t == tag) {
            self.0.push(tag.to_string());
        }
    }
}

/// The implicit tags of an entry read for the page at `path`: the page
/// itself, and each layout it is under (`/posts/3` is under `/posts/3`,
/// `/posts` and `/`).
///
/// ```
/// assert_eq!(
///     tandem::wire::path_tags("/posts/3"),
///     ["_path:/posts/3", "_layout:/posts/3", "_layout:/posts", "_layout:/"]
/// );
/// ```
pub fn path_tags(path: &str) -> Vec<String> {
    let path = normalize(path);
    let mut tags = vec![format!("{PATH_TAG}{path}")];
    let mut layout = path.as_str();
    loop {
        tags.push(format!("{LAYOUT_TAG}{layout}"));
        if layout == "/" {
            break;
        }
        layout = match layout.rfind('/') {
            Some(0) | None => "/",
            Some(i) => &layout[..i],
        };
    }
    tags
}

/// Whether the concrete `path` is the one `pattern` names: segment by
/// segment, where a `[param]` segment matches any one segment and a
/// `[...rest]` segment matches the rest (one segment or more). Trailing
/// slashes do not count.
///
/// ```
/// use tandem::wire::path_matches;
/// assert!(path_matches("/posts/[id]", "/posts/3"));
/// assert!(!path_matches("/posts/[id]", "/posts"));
/// assert!(!path_matches("/posts/[id]", "/posts/3/edit"));
/// assert!(path_matches("/docs/[...slug]", "/docs/a/b"));
/// assert!(path_matches("/posts/", "/posts"));
/// ```
pub fn path_matches(pattern: &str, path: &str) -> bool {
    let pattern = normalize(pattern);
    let path = normalize(path);
    let mut want = pattern.split('/').skip(1).filter(|s| !s.is_empty());
    let mut have = path.split('/').skip(1).filter(|s| !s.is_empty());
    loop {
        match (want.next(), have.next()) {
            (None, None) => return true,
            (Some(w), Some(_)) if w.starts_with("[...") && w.ends_with(']') => return true,
            (Some(w), Some(h)) => {
                let param = w.starts_with('[') && w.ends_with(']');
                if !param && w != h {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

/// Whether `path` has a `[param]` segment.
pub fn is_pattern(path: &str) -> bool {
    path.split('/')
        .any(|s| s.starts_with('[') && s.ends_with(']'))
}

/// `path` without its query, fragment and trailing slash (`/` stays).
fn normalize(path: &str) -> String {
    let path = super::path_of(path);
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        "/".to_string()
    } else if trimmed.starts_with('/') {
        trimmed.to_string()
    } else {
        format!("/{trimmed}")
    }
}

#[cfg(feature = "ssr")]
mod scope {
    use super::Reads;
    use std::future::Future;
    use std::sync::{Arc, Mutex};

    tokio::task_local! {
        static READS: Arc<Mutex<Reads>>;
    }

    /// Runs `f`, collecting the tags the cache records while it runs.
    pub(crate) async fn tracking<F: Future>(f: F) -> (F::Output, Reads) {
        let reads = Arc::new(Mutex::new(Reads::default()));
        let output = READS.scope(reads.clone(), f).await;
        let reads = reads.lock().map(|r| r.clone()).unwrap_or_default();
        (output, reads)
    }

    /// Records that the running query read an entry with `tags`.
    pub(crate) fn record(tags: &[String]) {
        let _ = READS.try_with(|reads| {
            if let Ok(mut reads) = reads.lock() {
                for tag in tags {
                    reads.add(tag);
                }
            }
        });
    }
}

#[cfg(feature = "ssr")]
pub(crate) use scope::{record, tracking};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_cover_everything_under_them() {
        let reads = Reads(path_tags("/posts/3"));
        assert!(reads.touched(&[], &[], &["/posts".into()]));
        assert!(reads.touched(&[], &[], &["/".into()]));
        assert!(reads.touched(&[], &["/posts/[id]".into()], &[]));
        assert!(
            !reads.touched(&[], &["/posts".into()], &[]),
            "a page, not its children"
        );
        assert!(!reads.touched(&[], &[], &["/tags".into()]));
    }

    #[test]
    fn paths_are_compared_without_queries_or_trailing_slashes() {
        assert_eq!(path_tags("/posts/?page=2")[0], "_path:/posts");
        assert!(path_matches("/", "/"));
        assert!(!path_matches("/a/[b]/c", "/a/x/d"));
        assert!(is_pattern("/posts/[id]"));
        assert!(!is_pattern("/posts"));
    }
}
