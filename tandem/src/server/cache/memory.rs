//! The in-memory store: bounded, least recently used out first.
//!
//! Entries sit in a map by key; their last uses in an ordered map by use,
//! so finding the least recently used entry, and moving an entry to the
//! front, each take O(log n).

use super::store::{CacheStore, Entry, Mark, StoreFuture};

/// Entries the in-memory store keeps at most, by default.
pub const DEFAULT_CAPACITY: usize = 10_000;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

/// A bounded in-memory [`CacheStore`]: past its capacity, the least
/// recently used entry goes.
///
/// ```
/// use tandem::server::cache::{CacheStore, Entry, MemoryStore};
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
    /// Key → entry and its last use.
    entries: HashMap<String, (Entry, u64)>,
    /// Last use → key, oldest first.
    uses: BTreeMap<u64, String>,
    clock: u64,
    /// Counts invalidations, for marks (one count for every tag: a put is
    /// refused after any invalidation, which only costs a cache fill).
    invalidations: u64,
}

impl Lru {
    /// Marks `key` (present) as used now.
    fn touch(&mut self, key: &str) {
        self.clock += 1;
        let now = self.clock;
        if let Some((_, used)) = self.entries.get_mut(key) {
            let before = std::mem::replace(used, now);
            self.uses.remove(&before);
            self.uses.insert(now, key.to_string());
        }
    }

    fn remove(&mut self, key: &str) {
        if let Some((_, used)) = self.entries.remove(key) {
            self.uses.remove(&used);
        }
    }

    /// Removes every entry `doomed` picks.
    fn remove_where(&mut self, doomed: impl Fn(&Entry) -> bool) {
        let keys: Vec<String> = self
            .entries
            .iter()
            .filter(|(_, (entry, _))| doomed(entry))
            .map(|(key, _)| key.clone())
            .collect();
        for key in keys {
            self.remove(&key);
        }
    }
}

impl MemoryStore {
    /// A store of at most `capacity` entries (at least one).
    ///
    /// ```
    /// let store = tandem::server::cache::MemoryStore::new(100);
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
    /// assert_eq!(tandem::server::cache::MemoryStore::new(1).len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// The most entries it keeps.
    ///
    /// ```
    /// assert_eq!(tandem::server::cache::MemoryStore::new(5).capacity(), 5);
    /// ```
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Whether it holds nothing.
    ///
    /// ```
    /// assert!(tandem::server::cache::MemoryStore::new(1).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn get_now(&self, key: &str) -> Option<Entry> {
        let mut lru = self.lock();
        lru.touch(key);
        lru.entries.get(key).map(|(entry, _)| entry.clone())
    }

    pub(crate) fn put_now(&self, key: &str, entry: Entry) {
        let mut lru = self.lock();
        lru.remove(key);
        lru.clock += 1;
        let now = lru.clock;
        lru.entries.insert(key.to_string(), (entry, now));
        lru.uses.insert(now, key.to_string());
        while lru.entries.len() > self.capacity {
            let Some((_, oldest)) = lru.uses.pop_first() else {
                break;
            };
            lru.entries.remove(&oldest);
        }
    }

    pub(crate) fn mark_stale_now(&self, tag: &str) {
        let mut lru = self.lock();
        lru.invalidations += 1;
        for (entry, _) in lru.entries.values_mut() {
            if entry.tags.iter().any(|t| t == tag) {
                entry.mark_stale();
            }
        }
    }

    pub(crate) fn expire_now(&self, tag: &str) {
        let mut lru = self.lock();
        lru.invalidations += 1;
        lru.remove_where(|entry| entry.tags.iter().any(|t| t == tag));
    }

    pub(crate) fn tie_now(&self, key: &str, tags: &[String]) {
        let mut lru = self.lock();
        if let Some((entry, _)) = lru.entries.get_mut(key) {
            for tag in tags {
                if !entry.tags.contains(tag) {
                    entry.tags.push(tag.clone());
                }
            }
        }
    }

    pub(crate) fn tags_with_prefix_now(&self, prefix: &str) -> Vec<String> {
        let lru = self.lock();
        let mut tags: Vec<String> = lru
            .entries
            .values()
            .flat_map(|(entry, _)| entry.tags.iter())
            .filter(|t| t.starts_with(prefix))
            .cloned()
            .collect();
        tags.sort();
        tags.dedup();
        tags
    }

    pub(crate) fn mark_now(&self) -> Mark {
        Mark::memory(self.lock().invalidations)
    }

    pub(crate) fn put_since_now(&self, key: &str, entry: Entry, mark: &Mark) {
        let invalidated = {
            let lru = self.lock();
            mark.memory_count()
                .is_some_and(|count| count != lru.invalidations)
        };
        if !invalidated {
            self.put_now(key, entry);
        }
    }

    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn remove_now(&self, key: &str) {
        self.lock().remove(key);
    }

    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn clear(&self) {
        let mut lru = self.lock();
        lru.entries.clear();
        lru.uses.clear();
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

    fn tie<'a>(&'a self, key: &'a str, tags: &'a [String]) -> StoreFuture<'a, ()> {
        self.tie_now(key, tags);
        Box::pin(std::future::ready(()))
    }

    fn tags_with_prefix<'a>(&'a self, prefix: &'a str) -> StoreFuture<'a, Vec<String>> {
        Box::pin(std::future::ready(self.tags_with_prefix_now(prefix)))
    }

    fn put_since<'a>(&'a self, key: &'a str, entry: Entry, mark: Mark) -> StoreFuture<'a, ()> {
        self.put_since_now(key, entry, &mark);
        Box::pin(std::future::ready(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn entry(tags: &[&str]) -> Entry {
        Entry::new(
            "v".into(),
            tags.iter().map(|t| t.to_string()).collect(),
            Duration::from_secs(60),
        )
    }

    #[test]
    fn the_least_recently_used_entry_goes_first() {
        let store = MemoryStore::new(2);
        store.put_now("a", entry(&[]));
        store.put_now("b", entry(&[]));
        assert!(store.get_now("a").is_some()); // a is now newer than b
        store.put_now("c", entry(&[]));
        assert!(store.get_now("b").is_none());
        assert!(store.get_now("a").is_some());
        assert!(store.get_now("c").is_some());
        assert_eq!(store.len(), 2);
    }

    #[test]
    fn uses_stay_in_step_with_entries() {
        let store = MemoryStore::new(3);
        for round in 0..100 {
            let key = format!("k{}", round % 7);
            store.put_now(&key, entry(&["t"]));
            let _ = store.get_now(&format!("k{}", round % 5));
            if round % 11 == 0 {
                store.expire_now("t");
            }
            let lru = store.lock();
            assert_eq!(lru.entries.len(), lru.uses.len());
            assert!(lru.entries.len() <= 3);
            for (used, key) in &lru.uses {
                assert_eq!(lru.entries.get(key).map(|(_, u)| *u), Some(*used));
            }
        }
    }

    #[test]
    fn a_put_after_an_invalidation_since_the_mark_is_dropped() {
        let store = MemoryStore::new(10);
        let mark = store.mark_now();
        store.expire_now("t");
        store.put_since_now("k", entry(&["t"]), &mark);
        assert!(store.get_now("k").is_none());
        let mark = store.mark_now();
        store.put_since_now("k", entry(&["t"]), &mark);
        assert!(store.get_now("k").is_some());
    }
}
