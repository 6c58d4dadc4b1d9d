//! Where cache entries live: the [`CacheStore`] trait, its [`Entry`], and
//! the [`Mark`] that keeps a value read before an invalidation from being
//! stored after it.

use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// One cached value.
///
/// ```
/// let e = tandem::server::cache::Entry::new("42".into(), vec!["price".into()], std::time::Duration::from_secs(60));
/// assert!(!e.is_stale());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The value, as JSON.
    pub value: String,
    /// Its tags, the implicit path tags included.
    pub tags: Vec<String>,
    /// When it was read, in milliseconds since the Unix epoch (wall clock,
    /// so that instances sharing a store agree).
    created_ms: u64,
    lifetime_ms: u64,
    pub(crate) stale: bool,
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Entry {
    /// A fresh entry.
    ///
    /// ```
    /// let e = tandem::server::cache::Entry::new("1".into(), vec![], std::time::Duration::from_secs(1));
    /// assert_eq!(e.value, "1");
    /// ```
    pub fn new(value: String, tags: Vec<String>, lifetime: Duration) -> Self {
        Self {
            value,
            tags,
            created_ms: now_ms(),
            lifetime_ms: lifetime.as_millis().min(u64::MAX as u128) as u64,
            stale: false,
        }
    }

    /// Whether a `revalidate_tag` marked it.
    ///
    /// ```
    /// let e = tandem::server::cache::Entry::new("1".into(), vec![], std::time::Duration::from_secs(1));
    /// assert!(!e.is_stale());
    /// ```
    pub fn is_stale(&self) -> bool {
        self.stale
    }

    /// Whether it is past its lifetime (never served then).
    ///
    /// ```
    /// let e = tandem::server::cache::Entry::new("1".into(), vec![], std::time::Duration::ZERO);
    /// assert!(e.is_expired());
    /// ```
    pub fn is_expired(&self) -> bool {
        now_ms().saturating_sub(self.created_ms) >= self.lifetime_ms
    }

    /// Marks it stale (what `revalidate_tag` does to it).
    ///
    /// ```
    /// let mut e = tandem::server::cache::Entry::new("1".into(), vec![], std::time::Duration::from_secs(1));
    /// e.mark_stale();
    /// assert!(e.is_stale());
    /// ```
    pub fn mark_stale(&mut self) {
        self.stale = true;
    }

    /// Milliseconds left before it expires (0 once expired).
    ///
    /// ```
    /// let e = tandem::server::cache::Entry::new("1".into(), vec![], std::time::Duration::from_secs(60));
    /// assert!(e.remaining_ms() > 59_000);
    /// ```
    pub fn remaining_ms(&self) -> u64 {
        let age = now_ms().saturating_sub(self.created_ms);
        self.lifetime_ms.saturating_sub(age)
    }
}

/// Where cache entries live. Implement it for another backend; the
/// in-memory [`MemoryStore`] is the default.
///
/// Its methods are async so that a store may live over the network.
///
/// ```
/// use tandem::server::cache::{CacheStore, Entry, MemoryStore};
/// # futures::executor::block_on(async {
/// let store = MemoryStore::new(10);
/// store.put("k", Entry::new("1".into(), vec!["t".into()], std::time::Duration::from_secs(60))).await;
/// store.mark_stale("t").await;
/// assert!(store.get("k").await.unwrap().is_stale());
/// store.expire("t").await;
/// assert!(store.get("k").await.is_none());
/// # });
/// ```
pub trait CacheStore: Send + Sync + 'static {
    /// The entry under `key`, if any (expired ones included: the cache
    /// checks lifetimes).
    fn get<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Entry>>;
    /// Stores an entry, replacing any under the same key.
    fn put<'a>(&'a self, key: &'a str, entry: Entry) -> StoreFuture<'a, ()>;
    /// Marks every entry tagged `tag` stale.
    fn mark_stale<'a>(&'a self, tag: &'a str) -> StoreFuture<'a, ()>;
    /// Removes every entry tagged `tag`.
    fn expire<'a>(&'a self, tag: &'a str) -> StoreFuture<'a, ()>;

    /// Adds `tags` to the entry under `key` (another page read it), so that
    /// invalidating any of them reaches it. The default reads the entry and
    /// puts it back.
    fn tie<'a>(&'a self, key: &'a str, tags: &'a [String]) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            if let Some(mut entry) = self.get(key).await {
                for tag in tags {
                    if !entry.tags.contains(tag) {
                        entry.tags.push(tag.clone());
                    }
                }
                self.put(key, entry).await;
            }
        })
    }

    /// Every tag starting with `prefix` that an entry has (to expire the
    /// pages a pattern such as `/posts/[id]` names). The default knows none.
    fn tags_with_prefix<'a>(&'a self, prefix: &'a str) -> StoreFuture<'a, Vec<String>> {
        let _ = prefix;
        Box::pin(std::future::ready(Vec::new()))
    }

    /// Where the invalidations of `tags` stand, taken before a value is
    /// fetched, for [`put_since`](CacheStore::put_since). The default has
    /// no mark: `put_since` is then a plain `put`.
    fn mark<'a>(&'a self, tags: &'a [String]) -> StoreFuture<'a, Mark> {
        let _ = tags;
        Box::pin(std::future::ready(Mark::default()))
    }

    /// Stores an entry fetched after `mark` was taken, unless one of its
    /// tags was invalidated since: a value read before an invalidation
    /// must not be put back after it.
    fn put_since<'a>(&'a self, key: &'a str, entry: Entry, mark: Mark) -> StoreFuture<'a, ()> {
        let _ = mark;
        self.put(key, entry)
    }
}

/// Where a store's invalidations stood when a fetch began (see
/// [`CacheStore::mark`]): a value fetched after the mark is stored only if
/// none of its tags was invalidated since. The default mark checks nothing.
///
/// ```
/// use tandem::server::cache::{CacheStore, Entry, MemoryStore};
/// # futures::executor::block_on(async {
/// let store = MemoryStore::new(10);
/// let tags = vec!["t".to_string()];
/// let mark = store.mark(&tags).await;
/// store.expire("t").await; // while the value was being fetched
/// let e = Entry::new("old".into(), tags.clone(), std::time::Duration::from_secs(60));
/// store.put_since("k", e, mark).await;
/// assert!(store.get("k").await.is_none());
/// # });
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mark {
    /// How many invalidations an in-memory store had applied.
    memory: Option<u64>,
    /// Each tag's invalidation count in a shared store, when it was
    /// reachable.
    shared: Option<Vec<(String, u64)>>,
}

impl Mark {
    /// A mark of an in-memory store that had applied `invalidations`.
    pub(crate) fn memory(invalidations: u64) -> Self {
        Self {
            memory: Some(invalidations),
            shared: None,
        }
    }

    /// This mark with each tag's count in a shared store.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn with_shared(mut self, epochs: Vec<(String, u64)>) -> Self {
        self.shared = Some(epochs);
        self
    }

    /// The in-memory count, if taken.
    pub(crate) fn memory_count(&self) -> Option<u64> {
        self.memory
    }

    /// The shared counts of `tags`, in their order, if every one was taken.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn shared_counts(&self, tags: &[String]) -> Option<Vec<u64>> {
        let shared = self.shared.as_ref()?;
        tags.iter()
            .map(|tag| shared.iter().find(|(t, _)| t == tag).map(|(_, n)| *n))
            .collect()
    }
}

/// Why `TANDEM_CACHE_URL` (or a store's URL) cannot be used.
///
/// ```
/// let e = tandem::server::cache::CacheConfigError::Unsupported("memcached://x".into());
/// assert!(e.to_string().contains("memcached://x"));
/// ```
#[derive(Debug, thiserror::Error)]
pub enum CacheConfigError {
    /// A scheme Tandem has no store for.
    #[error("TANDEM_CACHE_URL={0:?}: unsupported; use redis://host:port/db, or leave it unset for the in-memory cache")]
    Unsupported(String),
    /// A `redis://` URL while the `redis` feature of tandem is off.
    #[error("TANDEM_CACHE_URL={0:?} needs tandem's `redis` feature")]
    FeatureOff(String),
    /// A URL the Redis client cannot parse.
    #[error("TANDEM_CACHE_URL={url:?}: {reason}")]
    BadUrl {
        /// The URL.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A network store was created outside a Tokio runtime.
    #[error("the Redis cache store must be opened inside a Tokio runtime")]
    NoRuntime,
}

/// What [`CacheStore`] methods return.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
