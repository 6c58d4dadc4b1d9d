//! A [`CacheStore`] shared by many instances, over Redis (feature `redis`).
//!
//! Every instance reads and writes the same entries in Redis, so a
//! `revalidate_tag`, `update_tag` or `revalidate_path` run on one instance
//! is seen by the next render on any other. Each invalidation is also
//! published on a channel that every instance listens to, and applied to
//! the instance's own memory.
//!
//! That memory is the fallback: every entry read or written also lives in a
//! bounded [`MemoryStore`] of the instance. When Redis cannot be reached
//! (an error or no answer within [`RedisStore::with_timeout`]), the
//! instance logs it once, serves and caches from memory, keeps its own
//! invalidations to replay, and reconnects in the background. Back on
//! Redis it replays them (and publishes them), drops its memory (it may
//! have missed other instances' invalidations) and logs that too. Entries
//! are never served past their lifetime, from Redis or from memory. An
//! error Redis answers with (a key of another type, out of memory) fails
//! that one command, logged, and is not taken for a lost connection.
//!
//! Select it with `TANDEM_CACHE_URL=redis://host:port/db` (see
//! `Cache::from_env`), or build it:
//!
//! ```no_run
//! # #[tokio::main] async fn main() -> Result<(), tandem::server::cache::CacheConfigError> {
//! use tandem::server::cache::Cache;
//! use tandem::server::cache::RedisStore;
//!
//! let store = RedisStore::open("redis://127.0.0.1:6379/")?.with_prefix("shop:");
//! let tandem = tandem::TandemServer::new(|| {}).with_cache(Cache::new(store));
//! # Ok(()) }
//! ```
//!
//! In Redis, an entry is a hash `{prefix}e:{key}` (`v`: the entry as JSON,
//! `s`: set when a `revalidate_tag` marked it stale) whose TTL is the
//! entry's remaining lifetime, and a tag is a set `{prefix}t:{tag}` of the
//! keys it covers. Each tag also counts its invalidations in
//! `{prefix}v:{tag}`: a value fetched after a miss is put only if no
//! instance invalidated one of its tags while it was being read (see
//! [`CacheStore::mark`]). Invalidations go out on `{prefix}invalidate`.

mod commands;
mod connection;

use super::memory::DEFAULT_CAPACITY;
use super::store::{CacheConfigError, CacheStore, Entry, Mark, StoreFuture};
use commands::Op;
use connection::{lock, Failure, Inner, Settings};
use redis::Client;
use std::sync::Arc;
use std::time::Duration;

/// How long a Redis command may take before the instance falls back to its
/// memory.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(500);

impl Default for Settings {
    fn default() -> Self {
        Self {
            prefix: "tandem:".into(),
            timeout: DEFAULT_TIMEOUT,
            memory: DEFAULT_CAPACITY,
        }
    }
}

/// The Redis [`CacheStore`] (see the [module docs](self)). Cheap to clone.
///
/// ```no_run
/// # #[tokio::main] async fn main() {
/// let store = tandem::server::cache::RedisStore::open("redis://127.0.0.1:6379/").expect("a redis:// URL");
/// # }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    inner: Arc<Inner>,
}

impl RedisStore {
    /// A store on the Redis server at `url` (`redis://[:password@]host[:port][/db]`,
    /// `rediss://` for TLS is not built in). It connects in the background:
    /// until Redis answers, the instance serves from memory. Needs a Tokio
    /// runtime.
    ///
    /// ```no_run
    /// # #[tokio::main] async fn main() {
    /// let store = tandem::server::cache::RedisStore::open("redis://127.0.0.1:6379/0").unwrap();
    /// assert!(tandem::server::cache::RedisStore::open("http://nope").is_err());
    /// # }
    /// ```
    pub fn open(url: &str) -> Result<Self, CacheConfigError> {
        let client = Client::open(url).map_err(|e| CacheConfigError::BadUrl {
            url: url.to_string(),
            reason: e.to_string(),
        })?;
        let runtime =
            tokio::runtime::Handle::try_current().map_err(|_| CacheConfigError::NoRuntime)?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let id = format!("{:x}-{:x}", std::process::id(), nanos);
        Ok(Self::launch(Inner::new(
            client,
            url.to_string(),
            runtime,
            id,
            Settings::default(),
        )))
    }

    /// Keeps this store's keys under `prefix` (default `tandem:`), so that
    /// several apps can share one Redis. Call it before any request.
    ///
    /// ```no_run
    /// # #[tokio::main] async fn main() {
    /// let store = tandem::server::cache::RedisStore::open("redis://127.0.0.1/").unwrap().with_prefix("shop:");
    /// # }
    /// ```
    pub fn with_prefix(self, prefix: &str) -> Self {
        self.rebuild(|settings| settings.prefix = prefix.to_string())
    }

    /// How long a command may take before the instance serves from its
    /// memory instead (default [`DEFAULT_TIMEOUT`]).
    ///
    /// ```no_run
    /// # #[tokio::main] async fn main() {
    /// let store = tandem::server::cache::RedisStore::open("redis://127.0.0.1/").unwrap()
    ///     .with_timeout(std::time::Duration::from_millis(200));
    /// # }
    /// ```
    pub fn with_timeout(self, timeout: Duration) -> Self {
        self.rebuild(|settings| settings.timeout = timeout)
    }

    /// How many entries the in-memory fallback keeps (default
    /// [`DEFAULT_CAPACITY`]).
    ///
    /// ```no_run
    /// # #[tokio::main] async fn main() {
    /// let store = tandem::server::cache::RedisStore::open("redis://127.0.0.1/").unwrap().with_memory(1000);
    /// # }
    /// ```
    pub fn with_memory(self, capacity: usize) -> Self {
        self.rebuild(|settings| settings.memory = capacity)
    }

    /// Whether the store is on Redis right now (`false` while it serves
    /// from memory).
    ///
    /// ```no_run
    /// # #[tokio::main] async fn main() {
    /// let store = tandem::server::cache::RedisStore::open("redis://127.0.0.1/").unwrap();
    /// println!("on redis: {}", store.is_connected());
    /// # }
    /// ```
    pub fn is_connected(&self) -> bool {
        lock(&self.inner.link).conn.is_some()
    }

    /// Rebuilds the shared state with one setting changed; the background
    /// tasks of the old one stop, new ones start.
    fn rebuild(self, change: impl FnOnce(&mut Settings)) -> Self {
        let old = &self.inner;
        let mut settings = Settings {
            prefix: old.keys.prefix().to_string(),
            timeout: old.timeout,
            memory: old.local.capacity(),
        };
        change(&mut settings);
        let inner = Inner::new(
            old.client.clone(),
            old.url.clone(),
            old.runtime.clone(),
            old.id.clone(),
            settings,
        );
        // The old one's tasks stop when it is dropped, at the end of this.
        Self::launch(inner)
    }

    /// A store over `inner`, its connection and listener started.
    fn launch(inner: Inner) -> Self {
        let store = Self {
            inner: Arc::new(inner),
        };
        store.inner.start();
        store
    }

    /// Puts the entry in Redis, unless `epochs` are given and one of its
    /// tags was invalidated since they were read.
    async fn put_in_redis(&self, key: &str, entry: Entry, epochs: Option<&[u64]>) {
        let inner = &self.inner;
        let Some((mut conn, generation)) = inner.connection() else {
            return;
        };
        let put = commands::put(&mut conn, &inner.keys, &inner.scripts, key, &entry, epochs);
        match inner.within(put).await {
            Ok(_) => {}
            Err(Failure::Link(e)) => inner.lost(generation, &e),
            Err(Failure::Command(e)) => {
                tracing::warn!("tandem: Redis refused the cache entry {key:?}: {e}")
            }
        }
    }

    async fn invalidate(&self, op: Op, tag: &str) {
        match op {
            Op::Stale => self.inner.local.mark_stale_now(tag),
            Op::Expire => self.inner.local.expire_now(tag),
        }
        let (conn, generation) = {
            let mut pending = lock(&self.inner.pending);
            match self.inner.connection() {
                Some(live) => live,
                None => {
                    pending.push(op, tag);
                    return;
                }
            }
        };
        match self.inner.send(conn, op, tag).await {
            Ok(()) => {}
            Err(Failure::Link(e)) => {
                lock(&self.inner.pending).push(op, tag);
                self.inner.lost(generation, &e);
            }
            Err(Failure::Command(e)) => tracing::error!(
                "tandem: Redis refused to {} the tag {tag:?}: {e}",
                op.name()
            ),
        }
    }
}

impl CacheStore for RedisStore {
    fn get<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Entry>> {
        Box::pin(async move {
            let inner = &self.inner;
            let Some((mut conn, generation)) = inner.connection() else {
                return inner.local.get_now(key);
            };
            match inner
                .within(commands::read(&mut conn, &inner.keys, key))
                .await
            {
                Ok((value, stale)) => {
                    let entry = value
                        .and_then(|v| serde_json::from_str::<Entry>(&v).ok())
                        .map(|mut entry| {
                            if stale.is_some() {
                                entry.mark_stale();
                            }
                            entry
                        });
                    // Keep the fallback in step with what Redis holds.
                    match &entry {
                        Some(entry) => inner.local.put_now(key, entry.clone()),
                        None => inner.local.remove_now(key),
                    }
                    entry
                }
                Err(Failure::Link(e)) => {
                    inner.lost(generation, &e);
                    inner.local.get_now(key)
                }
                // Not a value this store wrote (or Redis refused the read):
                // a miss, so the value is fetched again and put back.
                Err(Failure::Command(e)) => {
                    tracing::warn!("tandem: reading the cache entry {key:?} from Redis: {e}");
                    inner.local.remove_now(key);
                    None
                }
            }
        })
    }

    fn put<'a>(&'a self, key: &'a str, entry: Entry) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            self.inner.local.put_now(key, entry.clone());
            self.put_in_redis(key, entry, None).await;
        })
    }

    fn mark<'a>(&'a self, tags: &'a [String]) -> StoreFuture<'a, Mark> {
        Box::pin(async move {
            let inner = &self.inner;
            let local = inner.local.mark_now();
            let Some((mut conn, generation)) = inner.connection() else {
                return local;
            };
            match inner
                .within(commands::epochs(&mut conn, &inner.keys, tags))
                .await
            {
                Ok(epochs) if epochs.len() == tags.len() => {
                    local.with_shared(tags.iter().cloned().zip(epochs).collect())
                }
                Ok(_) => local,
                Err(Failure::Link(e)) => {
                    inner.lost(generation, &e);
                    local
                }
                Err(Failure::Command(e)) => {
                    tracing::warn!("tandem: reading tag epochs from Redis: {e}");
                    local
                }
            }
        })
    }

    fn put_since<'a>(&'a self, key: &'a str, entry: Entry, mark: Mark) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            self.inner.local.put_since_now(key, entry.clone(), &mark);
            // Without Redis's epochs (Redis was away at the mark), the
            // entry stays in memory only.
            if let Some(epochs) = mark.shared_counts(&entry.tags) {
                self.put_in_redis(key, entry, Some(&epochs)).await;
            }
        })
    }

    fn tie<'a>(&'a self, key: &'a str, tags: &'a [String]) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let inner = &self.inner;
            inner.local.tie_now(key, tags);
            let Some(ttl) = inner.local.get_now(key).map(|e| e.remaining_ms()) else {
                return;
            };
            let Some((mut conn, generation)) = inner.connection() else {
                return;
            };
            let tie = commands::tie(&mut conn, &inner.keys, &inner.scripts, key, tags, ttl);
            match inner.within(tie).await {
                Ok(()) => {}
                Err(Failure::Link(e)) => inner.lost(generation, &e),
                Err(Failure::Command(e)) => {
                    tracing::warn!("tandem: Redis refused to tie the cache entry {key:?}: {e}")
                }
            }
        })
    }

    fn tags_with_prefix<'a>(&'a self, prefix: &'a str) -> StoreFuture<'a, Vec<String>> {
        Box::pin(async move {
            let inner = &self.inner;
            let mut tags = inner.local.tags_with_prefix_now(prefix);
            let Some((mut conn, generation)) = inner.connection() else {
                return tags;
            };
            let mut cursor = 0;
            loop {
                let page = commands::tags_page(&mut conn, &inner.keys, prefix, cursor);
                match inner.within(page).await {
                    Ok((next, found)) => {
                        tags.extend(found);
                        if next == 0 {
                            break;
                        }
                        cursor = next;
                    }
                    Err(Failure::Link(e)) => {
                        inner.lost(generation, &e);
                        break;
                    }
                    Err(Failure::Command(e)) => {
                        tracing::warn!("tandem: listing tags in Redis: {e}");
                        break;
                    }
                }
            }
            tags.sort();
            tags.dedup();
            tags
        })
    }

    fn mark_stale<'a>(&'a self, tag: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(self.invalidate(Op::Stale, tag))
    }

    fn expire<'a>(&'a self, tag: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(self.invalidate(Op::Expire, tag))
    }
}

#[cfg(test)]
mod tests {
    //! Against a real `redis-server` (Debian's; `cargo xtask setup test`
    //! installs it), started on a free port for each test.
    use super::*;
    use crate::server::cache::Cache;
    use std::path::PathBuf;
    use std::process::{Child, Command, Stdio};

    /// A redis-server whose data lives in its own folder, so that a restart
    /// on the same port and folder finds what `SAVE` wrote.
    struct RedisServer {
        port: u16,
        dir: PathBuf,
        child: Child,
    }

    impl RedisServer {
        fn start() -> Self {
            let port = free_port();
            let dir =
                std::env::temp_dir().join(format!("tandem-redis-{}-{port}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("redis dir");
            Self::start_in(port, dir)
        }

        fn start_in(port: u16, dir: PathBuf) -> Self {
            let child =
                Command::new(std::env::var("REDIS_SERVER").unwrap_or("redis-server".into()))
                    .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                    .args([
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                        "--dbfilename",
                        "dump.rdb",
                    ])
                    .arg("--dir")
                    .arg(&dir)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("redis-server must be installed (cargo xtask setup test installs it)");
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
                assert!(
                    std::time::Instant::now() < deadline,
                    "redis-server did not start"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
            Self { port, dir, child }
        }

        fn url(&self) -> String {
            format!("redis://127.0.0.1:{}/", self.port)
        }

        async fn command<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> T {
            let client = Client::open(self.url()).expect("url");
            let mut conn = client
                .get_multiplexed_async_connection()
                .await
                .expect("connect");
            cmd.query_async(&mut conn).await.expect("command")
        }

        fn kill(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    impl Drop for RedisServer {
        fn drop(&mut self) {
            self.kill();
        }
    }

    fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port")
    }

    async fn connected(store: &RedisStore) {
        for _ in 0..500 {
            if store.is_connected() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the store did not connect to Redis");
    }

    /// Waits until `n` listeners are subscribed to the store's channel.
    async fn subscribed(redis: &RedisServer, store: &RedisStore, n: i64) {
        for _ in 0..500 {
            let mut cmd = redis::cmd("PUBSUB");
            cmd.arg("NUMSUB").arg(store.inner.keys.channel());
            let (_, count): (String, i64) = redis.command(&cmd).await;
            if count >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the listeners did not subscribe");
    }

    fn entry(v: &str, tags: &[&str]) -> Entry {
        Entry::new(
            v.into(),
            tags.iter().map(|t| t.to_string()).collect(),
            Duration::from_secs(60),
        )
    }

    #[tokio::test]
    async fn instances_share_entries_and_invalidations() {
        let redis = RedisServer::start();
        let a = RedisStore::open(&redis.url()).unwrap();
        let b = RedisStore::open(&redis.url()).unwrap();
        connected(&a).await;
        connected(&b).await;

        a.put("price", entry("1", &["price"])).await;
        assert_eq!(b.get("price").await.map(|e| e.value), Some("1".into()));

        a.mark_stale("price").await;
        assert!(b.get("price").await.unwrap().is_stale());

        a.expire("price").await;
        assert_eq!(b.get("price").await, None);
    }

    #[tokio::test]
    async fn published_invalidations_reach_other_instances_memory() {
        let redis = RedisServer::start();
        let a = RedisStore::open(&redis.url()).unwrap();
        let b = RedisStore::open(&redis.url()).unwrap();
        connected(&a).await;
        connected(&b).await;
        subscribed(&redis, &b, 2).await;
        b.put("k", entry("v", &["t"])).await;
        assert!(b.inner.local.get_now("k").is_some());
        a.expire("t").await;
        for _ in 0..200 {
            if b.inner.local.get_now("k").is_none() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("b's memory still holds the expired entry");
    }

    #[tokio::test]
    async fn without_redis_it_serves_from_memory_and_replays_on_return() {
        let redis = RedisServer::start();
        let a = RedisStore::open(&redis.url())
            .unwrap()
            .with_timeout(Duration::from_millis(200));
        connected(&a).await;
        a.put("price", entry("1", &["price"])).await;
        a.put("other", entry("2", &["other"])).await;
        // Redis keeps both entries across the restart.
        let _: () = redis.command(&redis::cmd("SAVE")).await;
        let mut redis = redis;
        redis.kill();

        // a notices on its next command and falls back to memory.
        assert_eq!(a.get("price").await.map(|e| e.value), Some("1".into()));
        assert!(!a.is_connected());
        assert_eq!(a.get("price").await.map(|e| e.value), Some("1".into()));
        // Its own invalidation applies at once, and is kept for Redis.
        a.expire("price").await;
        assert_eq!(a.get("price").await, None);

        // Redis comes back with the old entries: the replay removes the one
        // a expired while it was away, and only that one.
        let redis = RedisServer::start_in(redis.port, redis.dir.clone());
        connected(&a).await;
        let mut exists = redis::cmd("EXISTS");
        exists.arg(a.inner.keys.entry("price"));
        assert_eq!(
            redis.command::<i64>(&exists).await,
            0,
            "a's expire was replayed"
        );
        let mut exists = redis::cmd("EXISTS");
        exists.arg(a.inner.keys.entry("other"));
        assert_eq!(
            redis.command::<i64>(&exists).await,
            1,
            "the other entry is kept"
        );
        assert_eq!(a.get("other").await.map(|e| e.value), Some("2".into()));
    }

    #[tokio::test]
    async fn a_late_failure_on_an_old_connection_keeps_the_new_one() {
        let redis = RedisServer::start();
        let a = RedisStore::open(&redis.url()).unwrap();
        connected(&a).await;
        let (_, old) = a.inner.connection().expect("live");
        // Lose it, and let the reconnect bring a new one.
        a.inner.lost(old, "test");
        connected(&a).await;
        let (_, new) = a.inner.connection().expect("live again");
        assert!(new > old);
        // The old connection's failure, reported late, changes nothing.
        a.inner.lost(old, "late");
        assert!(a.is_connected());
        // And the new one still reconnects when it fails itself.
        a.inner.lost(new, "test");
        connected(&a).await;
    }

    #[tokio::test]
    async fn a_value_redis_refuses_is_a_miss_not_a_lost_connection() {
        let redis = RedisServer::start();
        let a = RedisStore::open(&redis.url()).unwrap();
        connected(&a).await;
        // A key of the wrong type where an entry should be.
        let mut set = redis::cmd("SET");
        set.arg(a.inner.keys.entry("k")).arg("not a hash");
        let _: () = redis.command(&set).await;
        assert_eq!(a.get("k").await, None);
        assert!(a.is_connected());
        // A lifetime past PEXPIRE's range is capped, not refused.
        a.put(
            "long",
            Entry::new("1".into(), vec!["t".into()], Duration::MAX),
        )
        .await;
        assert!(a.is_connected());
        let mut ttl = redis::cmd("PTTL");
        ttl.arg(a.inner.keys.entry("long"));
        assert!(redis.command::<i64>(&ttl).await > 0);
    }

    #[tokio::test]
    async fn a_value_read_before_another_instance_invalidated_it_is_not_put_back() {
        let redis = RedisServer::start();
        let a = RedisStore::open(&redis.url()).unwrap();
        let b = RedisStore::open(&redis.url()).unwrap();
        connected(&a).await;
        connected(&b).await;
        let tags = vec!["price".to_string()];
        // b misses and starts reading; a invalidates meanwhile.
        let mark = b.mark(&tags).await;
        a.expire("price").await;
        b.put_since("price", entry("old", &["price"]), mark).await;
        assert_eq!(a.get("price").await, None, "not in Redis");
        // With no invalidation in between, it is put.
        let mark = b.mark(&tags).await;
        b.put_since("price", entry("new", &["price"]), mark).await;
        assert_eq!(a.get("price").await.map(|e| e.value), Some("new".into()));
        // revalidate_tag counts too.
        let mark = b.mark(&tags).await;
        a.mark_stale("price").await;
        b.put_since("price", entry("newer", &["price"]), mark).await;
        let seen = a.get("price").await.expect("the stale entry stays");
        assert_eq!(seen.value, "new");
        assert!(seen.is_stale());
    }

    #[tokio::test]
    async fn cache_reads_through_redis_across_instances() {
        let redis = RedisServer::start();
        let a_store = RedisStore::open(&redis.url()).unwrap();
        let b_store = RedisStore::open(&redis.url()).unwrap();
        connected(&a_store).await;
        connected(&b_store).await;
        let (a, b) = (Cache::new(a_store), Cache::new(b_store));
        let read = |cache: &Cache, n: i64| {
            let cache = cache.clone();
            async move {
                cache
                    .read("n", &["n"], Some("/tags"), None, move || async move {
                        Ok::<i64, ()>(n)
                    })
                    .await
                    .unwrap()
            }
        };
        assert_eq!(read(&a, 1).await, 1);
        assert_eq!(read(&b, 2).await, 1, "b reads a's entry");
        a.apply(&crate::wire::Effects {
            updated_tags: vec!["n".into()],
            ..Default::default()
        })
        .await;
        assert_eq!(read(&b, 3).await, 3, "b's next read is fresh");
        b.apply(&crate::wire::Effects {
            revalidated_paths: vec!["/tags".into()],
            ..Default::default()
        })
        .await;
        assert_eq!(read(&a, 4).await, 4, "a path revalidated on b");
    }

    #[tokio::test]
    async fn open_refuses_other_schemes() {
        assert!(matches!(
            RedisStore::open("http://127.0.0.1/"),
            Err(CacheConfigError::BadUrl { .. })
        ));
    }
}
