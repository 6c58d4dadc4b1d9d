//! The server's tagged data cache: `cache(key, tags, fetch)`, invalidated by
//! `revalidate_tag`, `update_tag` and `revalidate_path`.
//!
//! A read through [`cache`] is stored under its key with its tags, the path
//! of the page being rendered (an implicit tag), and a lifetime. Then:
//!
//! - [`revalidate_tag`](crate::revalidate_tag) marks the tag's entries
//!   stale: the next read still gets the old value, once, while one refresh
//!   runs in the background (stale-while-revalidate);
//! - [`update_tag`](crate::update_tag) expires them at once: the next read
//!   is fresh (read your own writes);
//! - [`revalidate_path`](crate::revalidate_path) expires what that path
//!   read;
//! - an entry older than its lifetime is never served.
//!
//! The entries live in a [`CacheStore`]: [`MemoryStore`] (bounded, least
//! recently used out first) by default.
//!
//! ```no_run
//! use leptos::prelude::*;
//!
//! #[server(endpoint = "get_price", client = tandem::TandemClient)]
//! pub async fn get_price() -> Result<i64, ServerFnError> {
//!     tandem::cache("price", &["price"], || async { Ok::<_, ServerFnError>(42) }).await
//! }
//! ```

use leptos::prelude::*;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long an entry lives when nothing invalidates it.
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(60 * 60);

/// Entries the in-memory store keeps at most.
pub const DEFAULT_CAPACITY: usize = 10_000;

/// Prefix of the implicit tag naming the page that read an entry.
const PATH_TAG: &str = "_path:";

/// One cached value.
///
/// ```
/// let e = tandem::cache::Entry::new("42".into(), vec!["price".into()], std::time::Duration::from_secs(60));
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
    stale: bool,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Entry {
    /// A fresh entry.
    ///
    /// ```
    /// let e = tandem::cache::Entry::new("1".into(), vec![], std::time::Duration::from_secs(1));
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
    /// let e = tandem::cache::Entry::new("1".into(), vec![], std::time::Duration::from_secs(1));
    /// assert!(!e.is_stale());
    /// ```
    pub fn is_stale(&self) -> bool {
        self.stale
    }

    /// Whether it is past its lifetime (never served then).
    ///
    /// ```
    /// let e = tandem::cache::Entry::new("1".into(), vec![], std::time::Duration::ZERO);
    /// assert!(e.is_expired());
    /// ```
    pub fn is_expired(&self) -> bool {
        now_ms().saturating_sub(self.created_ms) >= self.lifetime_ms
    }

    /// Marks it stale (what `revalidate_tag` does to it).
    ///
    /// ```
    /// let mut e = tandem::cache::Entry::new("1".into(), vec![], std::time::Duration::from_secs(1));
    /// e.mark_stale();
    /// assert!(e.is_stale());
    /// ```
    pub fn mark_stale(&mut self) {
        self.stale = true;
    }

    /// Milliseconds left before it expires (0 once expired).
    ///
    /// ```
    /// let e = tandem::cache::Entry::new("1".into(), vec![], std::time::Duration::from_secs(60));
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
/// use tandem::cache::{CacheStore, Entry, MemoryStore};
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
/// [`CacheStore::mark`]). Empty: no check.
///
/// ```
/// use tandem::cache::{CacheStore, Entry, MemoryStore};
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
pub struct Mark(pub(crate) Vec<u64>);

/// What [`CacheStore`] methods return.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A bounded in-memory [`CacheStore`]: past its capacity, the least
/// recently used entry goes.
///
/// ```
/// use tandem::cache::{CacheStore, Entry, MemoryStore};
/// # futures::executor::block_on(async {
/// let store = MemoryStore::new(1);
/// let e = || Entry::new("v".into(), vec![], std::time::Duration::from_secs(60));
/// store.put("a", e()).await;
/// store.put("b", e()).await;
/// assert!(store.get("a").await.is_none());
/// assert!(store.get("b").await.is_some());
/// # });
/// ```
pub struct MemoryStore {
    capacity: usize,
    inner: Mutex<Lru>,
}

#[derive(Default)]
struct Lru {
    entries: HashMap<String, (Entry, u64)>,
    clock: u64,
    /// Counts invalidations, for marks (one count for every tag: a put is
    /// refused after any invalidation, which only costs a cache fill).
    invalidations: u64,
}

impl MemoryStore {
    /// A store of at most `capacity` entries (at least one).
    ///
    /// ```
    /// let store = tandem::cache::MemoryStore::new(100);
    /// ```
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            inner: Mutex::new(Lru::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Lru> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many entries it holds.
    ///
    /// ```
    /// assert_eq!(tandem::cache::MemoryStore::new(1).len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// The most entries it keeps.
    ///
    /// ```
    /// assert_eq!(tandem::cache::MemoryStore::new(5).capacity(), 5);
    /// ```
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Whether it holds nothing.
    ///
    /// ```
    /// assert!(tandem::cache::MemoryStore::new(1).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl CacheStore for MemoryStore {
    fn get<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Entry>> {
        Box::pin(std::future::ready(self.get_now(key)))
    }

    fn put<'a>(&'a self, key: &'a str, entry: Entry) -> StoreFuture<'a, ()> {
        self.put_now(key, entry);
        Box::pin(std::future::ready(()))
    }

    fn mark_stale<'a>(&'a self, tag: &'a str) -> StoreFuture<'a, ()> {
        self.mark_stale_now(tag);
        Box::pin(std::future::ready(()))
    }

    fn expire<'a>(&'a self, tag: &'a str) -> StoreFuture<'a, ()> {
        self.expire_now(tag);
        Box::pin(std::future::ready(()))
    }

    fn mark<'a>(&'a self, _tags: &'a [String]) -> StoreFuture<'a, Mark> {
        Box::pin(std::future::ready(self.mark_now()))
    }

    fn put_since<'a>(&'a self, key: &'a str, entry: Entry, mark: Mark) -> StoreFuture<'a, ()> {
        self.put_since_now(key, entry, &mark);
        Box::pin(std::future::ready(()))
    }
}

impl MemoryStore {
    pub(crate) fn get_now(&self, key: &str) -> Option<Entry> {
        let mut lru = self.lock();
        lru.clock += 1;
        let now = lru.clock;
        lru.entries.get_mut(key).map(|(entry, used)| {
            *used = now;
            entry.clone()
        })
    }

    pub(crate) fn put_now(&self, key: &str, entry: Entry) {
        let mut lru = self.lock();
        lru.clock += 1;
        let now = lru.clock;
        lru.entries.insert(key.to_string(), (entry, now));
        while lru.entries.len() > self.capacity {
            let oldest = lru
                .entries
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => {
                    lru.entries.remove(&k);
                }
                None => break,
            }
        }
    }

    pub(crate) fn mark_stale_now(&self, tag: &str) {
        let mut lru = self.lock();
        lru.invalidations += 1;
        for (entry, _) in lru.entries.values_mut() {
            if entry.tags.iter().any(|t| t == tag) {
                entry.stale = true;
            }
        }
    }

    pub(crate) fn expire_now(&self, tag: &str) {
        let mut lru = self.lock();
        lru.invalidations += 1;
        lru.entries
            .retain(|_, (entry, _)| !entry.tags.iter().any(|t| t == tag));
    }

    pub(crate) fn mark_now(&self) -> Mark {
        Mark(vec![self.lock().invalidations])
    }

    pub(crate) fn put_since_now(&self, key: &str, entry: Entry, mark: &Mark) {
        let invalidated = {
            let lru = self.lock();
            mark.0.first().is_some_and(|&m| m != lru.invalidations)
        };
        if !invalidated {
            self.put_now(key, entry);
        }
    }

    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn remove_now(&self, key: &str) {
        self.lock().entries.remove(key);
    }

    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn clear(&self) {
        self.lock().entries.clear();
    }
}

/// The cache of one server: a store, and the refreshes running in the
/// background. Cheap to clone; provided in the context of every request by
/// [`TandemServer`](crate::TandemServer).
///
/// ```
/// let cache = tandem::cache::Cache::new(tandem::cache::MemoryStore::new(100));
/// ```
#[derive(Clone)]
pub struct Cache {
    store: Arc<dyn CacheStore>,
    refreshing: Arc<Mutex<HashSet<String>>>,
}

/// Why `TANDEM_CACHE_URL` (or a store's URL) cannot be used.
///
/// ```
/// let e = tandem::cache::CacheConfigError::Unsupported("memcached://x".into());
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

impl Default for Cache {
    fn default() -> Self {
        Self::new(MemoryStore::new(DEFAULT_CAPACITY))
    }
}

impl Cache {
    /// A cache over `store`.
    ///
    /// ```
    /// let cache = tandem::cache::Cache::new(tandem::cache::MemoryStore::new(10));
    /// ```
    pub fn new(store: impl CacheStore) -> Self {
        Self {
            store: Arc::new(store),
            refreshing: Arc::default(),
        }
    }

    /// The cache `TANDEM_CACHE_URL` selects: unset or empty, the
    /// in-memory default; `redis://…`, a [`RedisStore`](crate::RedisStore)
    /// shared by every instance (feature `redis`, inside a Tokio runtime).
    ///
    /// ```
    /// std::env::remove_var("TANDEM_CACHE_URL");
    /// let cache = tandem::cache::Cache::from_env().unwrap();
    /// ```
    pub fn from_env() -> Result<Self, CacheConfigError> {
        match std::env::var("TANDEM_CACHE_URL") {
            Ok(url) if !url.trim().is_empty() => Self::from_url(url.trim()),
            _ => Ok(Self::default()),
        }
    }

    /// The cache for a store URL (see [`Cache::from_env`]).
    ///
    /// ```
    /// assert!(tandem::cache::Cache::from_url("memcached://127.0.0.1").is_err());
    /// ```
    pub fn from_url(url: &str) -> Result<Self, CacheConfigError> {
        let scheme = url.split("://").next().unwrap_or_default();
        match scheme {
            "redis" | "redis+unix" | "unix" => {
                #[cfg(feature = "redis")]
                return Ok(Self::new(crate::redis_store::RedisStore::open(url)?));
                #[cfg(not(feature = "redis"))]
                return Err(CacheConfigError::FeatureOff(url.to_string()));
            }
            _ => Err(CacheConfigError::Unsupported(url.to_string())),
        }
    }

    /// Applies what a server function recorded: stale tags, expired tags
    /// and paths.
    ///
    /// ```
    /// let cache = tandem::cache::Cache::default();
    /// let mut fx = tandem::flight::Effects::default();
    /// fx.updated_tags.push("price".into());
    /// # futures::executor::block_on(async {
    /// cache.apply(&fx).await;
    /// # });
    /// ```
    pub async fn apply(&self, effects: &crate::flight::Effects) {
        for tag in &effects.revalidated_tags {
            self.store.mark_stale(tag).await;
        }
        for tag in &effects.updated_tags {
            self.store.expire(tag).await;
        }
        for path in &effects.revalidated_paths {
            self.store.expire(&format!("{PATH_TAG}{path}")).await;
        }
    }

    /// Reads `key` through the cache (see [`cache`]).
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let cache = tandem::cache::Cache::default();
    /// let v: Result<i32, std::io::Error> = cache.read("k", &["t"], None, None, || async { Ok(1) }).await;
    /// assert_eq!(v.unwrap(), 1);
    /// # });
    /// ```
    pub async fn read<T, E, F, Fut>(
        &self,
        key: &str,
        tags: &[&str],
        path: Option<&str>,
        lifetime: Option<Duration>,
        fetch: F,
    ) -> Result<T, E>
    where
        T: Serialize + DeserializeOwned + Send + 'static,
        E: Send + 'static,
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
    {
        let mut all_tags: Vec<String> = tags.iter().map(|t| t.to_string()).collect();
        if let Some(path) = path {
            all_tags.push(format!("{PATH_TAG}{path}"));
        }
        let lifetime = lifetime.unwrap_or(DEFAULT_LIFETIME);
        if let Some(entry) = self.store.get(key).await.filter(|e| !e.is_expired()) {
            if let Ok(value) = serde_json::from_str::<T>(&entry.value) {
                if entry.stale {
                    self.refresh_in_background(key, entry.tags.clone(), lifetime, fetch);
                }
                return Ok(value);
            }
        }
        // Taken before the fetch: if a tag is invalidated while the value
        // is read, the value is served but not cached.
        let mark = self.store.mark(&all_tags).await;
        let value = fetch().await?;
        if let Ok(json) = serde_json::to_string(&value) {
            self.store
                .put_since(key, Entry::new(json, all_tags, lifetime), mark)
                .await;
        }
        Ok(value)
    }

    /// One background refresh per key at a time; the stale value is served
    /// meanwhile.
    fn refresh_in_background<T, E, F, Fut>(
        &self,
        key: &str,
        tags: Vec<String>,
        lifetime: Duration,
        fetch: F,
    ) where
        T: Serialize + Send + 'static,
        E: Send + 'static,
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
    {
        {
            let mut refreshing = self.refreshing.lock().unwrap_or_else(|e| e.into_inner());
            if !refreshing.insert(key.to_string()) {
                return;
            }
        }
        let cache = self.clone();
        let key = key.to_string();
        let refresh = async move {
            let mark = cache.store.mark(&tags).await;
            if let Ok(value) = fetch().await {
                if let Ok(json) = serde_json::to_string(&value) {
                    cache
                        .store
                        .put_since(&key, Entry::new(json, tags, lifetime), mark)
                        .await;
                }
            }
            cache
                .refreshing
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&key);
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(refresh);
            }
            // No runtime (a test): refresh now, on a thread of its own.
            Err(_) => {
                let _ = std::thread::spawn(move || futures::executor::block_on(refresh)).join();
            }
        }
    }
}

/// The path of the page this request renders or refreshes, for the
/// implicit path tag. Provided by Tandem's server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PagePath(pub String);

/// Reads through the request's cache: returns the value cached under `key`
/// or runs `fetch` and caches its `Ok` value under `tags` (and the page's
/// path) for [`DEFAULT_LIFETIME`]. Outside a Tandem request it just fetches.
///
/// ```no_run
/// # async fn f() -> Result<i64, std::io::Error> {
/// let price = tandem::cache("price", &["price"], || async { Ok::<i64, std::io::Error>(42) }).await?;
/// # Ok(price) }
/// ```
pub async fn cache<T, E, F, Fut>(key: &str, tags: &[&str], fetch: F) -> Result<T, E>
where
    T: Serialize + DeserializeOwned + Send + 'static,
    E: Send + 'static,
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
{
    cache_for(key, tags, DEFAULT_LIFETIME, fetch).await
}

/// [`cache`] with an explicit lifetime.
///
/// ```no_run
/// # async fn f() -> Result<i64, std::io::Error> {
/// let rate = tandem::cache::cache_for("rate", &["fx"], std::time::Duration::from_secs(30), || async {
///     Ok::<i64, std::io::Error>(7)
/// })
/// .await?;
/// # Ok(rate) }
/// ```
pub async fn cache_for<T, E, F, Fut>(
    key: &str,
    tags: &[&str],
    lifetime: Duration,
    fetch: F,
) -> Result<T, E>
where
    T: Serialize + DeserializeOwned + Send + 'static,
    E: Send + 'static,
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
{
    let Some(cache) = use_context::<Cache>() else {
        return fetch().await;
    };
    let path = use_context::<PagePath>()
        .map(|p| p.0)
        .or_else(|| use_context::<http::request::Parts>().map(|p| p.uri.path().to_string()));
    cache
        .read(key, tags, path.as_deref(), Some(lifetime), fetch)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicI64, Ordering};

    fn counter() -> (
        Arc<AtomicI64>,
        impl Fn() -> std::future::Ready<Result<i64, ()>> + Send + Sync + Clone + 'static,
    ) {
        let n = Arc::new(AtomicI64::new(0));
        let m = n.clone();
        (n, move || {
            std::future::ready(Ok(m.fetch_add(1, Ordering::SeqCst) + 1))
        })
    }

    fn read(
        cache: &Cache,
        f: impl Fn() -> std::future::Ready<Result<i64, ()>> + Send + Sync + 'static,
    ) -> i64 {
        futures::executor::block_on(cache.read("price", &["price"], Some("/tags"), None, f))
            .unwrap()
    }

    fn apply(cache: &Cache, effects: crate::flight::Effects) {
        futures::executor::block_on(cache.apply(&effects));
    }

    #[test]
    fn cached_until_invalidated() {
        let cache = Cache::default();
        let (_, fetch) = counter();
        assert_eq!(read(&cache, fetch.clone()), 1);
        assert_eq!(read(&cache, fetch.clone()), 1);
    }

    #[test]
    fn update_tag_makes_the_next_read_fresh() {
        let cache = Cache::default();
        let (_, fetch) = counter();
        assert_eq!(read(&cache, fetch.clone()), 1);
        apply(
            &cache,
            crate::flight::Effects {
                updated_tags: vec!["price".into()],
                ..Default::default()
            },
        );
        assert_eq!(read(&cache, fetch.clone()), 2);
    }

    #[test]
    fn revalidate_tag_serves_stale_once_then_fresh() {
        let cache = Cache::default();
        let (calls, fetch) = counter();
        assert_eq!(read(&cache, fetch.clone()), 1);
        apply(
            &cache,
            crate::flight::Effects {
                revalidated_tags: vec!["price".into()],
                ..Default::default()
            },
        );
        // Stale served; the refresh ran (no runtime here: inline).
        assert_eq!(read(&cache, fetch.clone()), 1);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert_eq!(read(&cache, fetch.clone()), 2);
    }

    #[test]
    fn revalidate_path_expires_what_the_path_read() {
        let cache = Cache::default();
        let (_, fetch) = counter();
        assert_eq!(read(&cache, fetch.clone()), 1);
        apply(
            &cache,
            crate::flight::Effects {
                revalidated_paths: vec!["/other".into()],
                ..Default::default()
            },
        );
        assert_eq!(read(&cache, fetch.clone()), 1);
        apply(
            &cache,
            crate::flight::Effects {
                revalidated_paths: vec!["/tags".into()],
                ..Default::default()
            },
        );
        assert_eq!(read(&cache, fetch.clone()), 2);
    }

    #[test]
    fn entries_past_their_lifetime_are_not_served() {
        let cache = Cache::default();
        let (_, fetch) = counter();
        let read_short = |f| {
            futures::executor::block_on(cache.read("k", &[], None, Some(Duration::ZERO), f))
                .unwrap()
        };
        assert_eq!(read_short(fetch.clone()), 1);
        assert_eq!(read_short(fetch.clone()), 2);
    }

    #[test]
    fn a_value_read_before_an_invalidation_is_not_cached_after_it() {
        let cache = Cache::default();
        let store = cache.clone();
        // The fetch reads the old value, then the tag is invalidated
        // before the fetch returns.
        let racing = move || {
            let store = store.clone();
            async move {
                store
                    .apply(&crate::flight::Effects {
                        updated_tags: vec!["price".into()],
                        ..Default::default()
                    })
                    .await;
                Ok::<i64, ()>(1)
            }
        };
        assert_eq!(
            futures::executor::block_on(cache.read("price", &["price"], None, None, racing))
                .unwrap(),
            1
        );
        // Not cached: the next read fetches.
        let (_, fetch) = counter();
        assert_eq!(read(&cache, fetch), 1);
        let (calls, fetch) = counter();
        assert_eq!(read(&cache, fetch), 1);
        assert_eq!(calls.load(Ordering::SeqCst), 0, "now it is cached");
    }

    #[test]
    fn errors_are_not_cached() {
        let cache = Cache::default();
        let failing = || std::future::ready(Err::<i64, &str>("down"));
        assert!(futures::executor::block_on(cache.read("k", &[], None, None, failing)).is_err());
        let (_, fetch) = counter();
        assert_eq!(
            futures::executor::block_on(cache.read("k", &[], None, None, fetch)).unwrap(),
            1
        );
    }
}
