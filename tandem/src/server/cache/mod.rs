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
//! #[tandem::query(endpoint = "get_price")]
//! pub async fn get_price() -> Result<i64, ServerFnError> {
//!     tandem::cache("price", &["price"], || async { Ok::<_, ServerFnError>(42) }).await
//! }
//! ```

mod memory;
#[cfg(feature = "redis")]
pub mod redis;
mod store;

pub use memory::{MemoryStore, DEFAULT_CAPACITY};
#[cfg(feature = "redis")]
pub use redis::RedisStore;
pub use store::{CacheConfigError, CacheStore, Entry, Mark, StoreFuture};

use crate::wire::{is_pattern, path_matches, path_tags, LAYOUT_TAG, PATH_TAG};
use leptos::prelude::*;
use serde::{de::DeserializeOwned, Serialize};
use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long an entry lives when nothing invalidates it.
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(60 * 60);

/// The cache of one server: a store, and the refreshes running in the
/// background. Cheap to clone; provided in the context of every request by
/// [`TandemServer`](crate::TandemServer).
///
/// ```
/// let cache = tandem::server::cache::Cache::new(tandem::server::cache::MemoryStore::new(100));
/// ```
#[derive(Clone)]
pub struct Cache {
    store: Arc<dyn CacheStore>,
    refreshing: Arc<Mutex<HashSet<String>>>,
    /// In a server function's context: the page the call was made from,
    /// which what it reads is kept under (the implicit path tag). Carried
    /// by the cache rather than a context of its own: each context is a
    /// box and an entry in the call's owner.
    page: Option<Arc<str>>,
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
    /// let cache = tandem::server::cache::Cache::new(tandem::server::cache::MemoryStore::new(10));
    /// ```
    pub fn new(store: impl CacheStore) -> Self {
        Self {
            store: Arc::new(store),
            refreshing: Arc::default(),
            page: None,
        }
    }

    /// The same cache, for a call made from the page at `page`.
    pub(crate) fn on_page(&self, page: Option<Arc<str>>) -> Self {
        Self {
            page,
            ..self.clone()
        }
    }

    /// The cache `TANDEM_CACHE_URL` selects: unset or empty, the
    /// in-memory default; `redis://…`, a [`RedisStore`](crate::RedisStore)
    /// shared by every instance (feature `redis`, inside a Tokio runtime).
    ///
    /// ```
    /// std::env::remove_var("TANDEM_CACHE_URL");
    /// let cache = tandem::server::cache::Cache::from_env().unwrap();
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
    /// assert!(tandem::server::cache::Cache::from_url("memcached://127.0.0.1").is_err());
    /// ```
    pub fn from_url(url: &str) -> Result<Self, CacheConfigError> {
        let scheme = url.split("://").next().unwrap_or_default();
        match scheme {
            "redis" | "redis+unix" | "unix" => {
                #[cfg(feature = "redis")]
                return Ok(Self::new(RedisStore::open(url)?));
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
    /// let cache = tandem::server::cache::Cache::default();
    /// let mut fx = tandem::wire::Effects::default();
    /// fx.updated_tags.push("price".into());
    /// # futures::executor::block_on(async {
    /// cache.apply(&fx).await;
    /// # });
    /// ```
    pub async fn apply(&self, effects: &crate::wire::Effects) {
        for tag in &effects.revalidated_tags {
            self.store.mark_stale(tag).await;
        }
        for tag in &effects.updated_tags {
            self.store.expire(tag).await;
        }
        for (prefix, paths) in [
            (PATH_TAG, &effects.revalidated_paths),
            (LAYOUT_TAG, &effects.revalidated_layouts),
        ] {
            for path in paths {
                self.expire_path(prefix, path).await;
            }
        }
    }

    /// Expires what the pages a path names read: its own tag, or, for a
    /// pattern (`/posts/[id]`), every tag of a page it matches.
    async fn expire_path(&self, prefix: &str, path: &str) {
        if !is_pattern(path) {
            let tag = path_tags(path)
                .into_iter()
                .find(|t| t.starts_with(prefix))
                .unwrap_or_default();
            self.store.expire(&tag).await;
            return;
        }
        for tag in self.store.tags_with_prefix(prefix).await {
            if tag
                .strip_prefix(prefix)
                .is_some_and(|page| path_matches(path, page))
            {
                self.store.expire(&tag).await;
            }
        }
    }

    /// Reads `key` through the cache (see [`cache`]).
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let cache = tandem::server::cache::Cache::default();
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
            all_tags.extend(path_tags(path));
        }
        let lifetime = lifetime.unwrap_or(DEFAULT_LIFETIME);
        if let Some(mut entry) = self.store.get(key).await.filter(|e| !e.is_expired()) {
            if let Ok(value) = serde_json::from_str::<T>(&entry.value) {
                // Whatever page first cached it, this page read it too: a
                // revalidate_path of this page must reach it.
                let untied: Vec<String> = all_tags
                    .iter()
                    .filter(|t| !entry.tags.contains(t))
                    .cloned()
                    .collect();
                if !untied.is_empty() {
                    self.store.tie(key, &untied).await;
                    entry.tags.extend(untied);
                }
                crate::wire::record_reads(&entry.tags);
                if entry.stale {
                    self.refresh_in_background(key, entry.tags.clone(), lifetime, fetch);
                }
                return Ok(value);
            }
        }
        crate::wire::record_reads(&all_tags);
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
            // Outside a Tokio runtime: on a thread of its own, not waited
            // for (the stale value is served meanwhile either way).
            Err(_) => {
                std::thread::spawn(move || futures::executor::block_on(refresh));
            }
        }
    }
}

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
/// let rate = tandem::server::cache::cache_for("rate", &["fx"], std::time::Duration::from_secs(30), || async {
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
    // The page a call was made from, else the page being rendered.
    let path = cache
        .page
        .as_deref()
        .map(str::to_string)
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

    fn apply(cache: &Cache, effects: crate::wire::Effects) {
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
            crate::wire::Effects {
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
            crate::wire::Effects {
                revalidated_tags: vec!["price".into()],
                ..Default::default()
            },
        );
        // Stale served, while one refresh runs in the background.
        assert_eq!(read(&cache, fetch.clone()), 1);
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while calls.load(Ordering::SeqCst) < 2 {
            assert!(std::time::Instant::now() < deadline, "the refresh ran");
            std::thread::sleep(Duration::from_millis(5));
        }
        // The refresh is stored: the next read is fresh.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while read(&cache, fetch.clone()) != 2 {
            assert!(
                std::time::Instant::now() < deadline,
                "the refreshed value is served"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 2, "one refresh only");
    }

    #[test]
    fn revalidate_path_expires_what_the_path_read() {
        let cache = Cache::default();
        let (_, fetch) = counter();
        assert_eq!(read(&cache, fetch.clone()), 1);
        apply(
            &cache,
            crate::wire::Effects {
                revalidated_paths: vec!["/other".into()],
                ..Default::default()
            },
        );
        assert_eq!(read(&cache, fetch.clone()), 1);
        apply(
            &cache,
            crate::wire::Effects {
                revalidated_paths: vec!["/tags".into()],
                ..Default::default()
            },
        );
        assert_eq!(read(&cache, fetch.clone()), 2);
    }

    fn read_at(
        cache: &Cache,
        path: &str,
        f: impl Fn() -> std::future::Ready<Result<i64, ()>> + Send + Sync + 'static,
    ) -> i64 {
        futures::executor::block_on(cache.read("posts", &["posts"], Some(path), None, f)).unwrap()
    }

    #[test]
    fn revalidate_path_reaches_a_page_that_read_what_another_page_cached() {
        let cache = Cache::default();
        let (_, fetch) = counter();
        // /other cached it; /posts read it from the cache.
        assert_eq!(read_at(&cache, "/other", fetch.clone()), 1);
        assert_eq!(read_at(&cache, "/posts", fetch.clone()), 1);
        apply(
            &cache,
            crate::wire::Effects {
                revalidated_paths: vec!["/posts".into()],
                ..Default::default()
            },
        );
        assert_eq!(
            read_at(&cache, "/posts", fetch.clone()),
            2,
            "fresh for /posts"
        );
    }

    #[test]
    fn revalidate_path_takes_dynamic_segments_and_layouts() {
        let expired_by = |effects: crate::wire::Effects| {
            let cache = Cache::default();
            let (_, fetch) = counter();
            assert_eq!(read_at(&cache, "/posts/3", fetch.clone()), 1);
            apply(&cache, effects);
            read_at(&cache, "/posts/3", fetch) == 2
        };
        let page = |p: &str| crate::wire::Effects {
            revalidated_paths: vec![p.into()],
            ..Default::default()
        };
        let layout = |p: &str| crate::wire::Effects {
            revalidated_layouts: vec![p.into()],
            ..Default::default()
        };
        assert!(expired_by(page("/posts/[id]")));
        assert!(expired_by(page("/posts/3")));
        assert!(!expired_by(page("/posts/4")));
        assert!(
            !expired_by(page("/posts")),
            "a page, not the pages under it"
        );
        assert!(expired_by(layout("/posts")));
        assert!(expired_by(layout("/")));
        assert!(!expired_by(layout("/tags")));
    }

    #[tokio::test]
    async fn a_read_records_the_tags_of_what_it_read() {
        let cache = Cache::default();
        let (_, fetch) = counter();
        let (value, reads) = crate::wire::tracking_reads(cache.read(
            "posts",
            &["posts"],
            Some("/posts/3"),
            None,
            fetch.clone(),
        ))
        .await;
        assert_eq!(value, Ok(1));
        assert!(reads.0.contains(&"posts".to_string()), "{reads:?}");
        assert!(reads.0.contains(&"_path:/posts/3".to_string()), "{reads:?}");
        // A hit records them too, with this page's.
        let (_, reads) = crate::wire::tracking_reads(cache.read(
            "posts",
            &["posts"],
            Some("/other"),
            None,
            fetch,
        ))
        .await;
        assert!(reads.0.contains(&"_path:/posts/3".to_string()), "{reads:?}");
        assert!(reads.0.contains(&"_path:/other".to_string()), "{reads:?}");
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
        // The fetch reads the old value (100), then the tag is invalidated
        // before the fetch returns.
        let racing = move || {
            let store = store.clone();
            async move {
                store
                    .apply(&crate::wire::Effects {
                        updated_tags: vec!["price".into()],
                        ..Default::default()
                    })
                    .await;
                Ok::<i64, ()>(100)
            }
        };
        assert_eq!(
            futures::executor::block_on(cache.read("price", &["price"], None, None, racing))
                .unwrap(),
            100,
            "the racing read is served"
        );
        // It was not cached: the next read fetches the new value.
        let (calls, fetch) = counter();
        assert_eq!(read(&cache, fetch.clone()), 1, "the old value was cached");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // That one is cached.
        assert_eq!(read(&cache, fetch), 1);
        assert_eq!(calls.load(Ordering::SeqCst), 1, "now it is cached");
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
