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
//! are never served past their lifetime, from Redis or from memory.
//!
//! Select it with `TANDEM_CACHE_URL=redis://host:port/db` (see
//! [`Cache::from_env`](crate::cache::Cache::from_env)), or build it:
//!
//! ```no_run
//! # #[tokio::main] async fn main() -> Result<(), tandem::cache::CacheConfigError> {
//! use tandem::cache::Cache;
//! use tandem::RedisStore;
//!
//! let store = RedisStore::open("redis://127.0.0.1:6379/")?.with_prefix("shop:");
//! let tandem = tandem::TandemServer::new(|| {}).with_cache(Cache::new(store));
//! # Ok(()) }
//! ```
//!
//! In Redis, an entry is a hash `{prefix}e:{key}` (`v`: the entry as JSON,
//! `s`: set when a `revalidate_tag` marked it stale) whose TTL is the
//! entry's remaining lifetime, and a tag is a set `{prefix}t:{tag}` of the
//! keys it covers. Invalidations go out on `{prefix}invalidate`.

use crate::cache::{
    CacheConfigError, CacheStore, Entry, MemoryStore, StoreFuture, DEFAULT_CAPACITY,
};
use futures::StreamExt;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client, Script};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// How long a Redis command may take before the instance falls back to its
/// memory.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(500);

/// Invalidations kept for replay while Redis is away; past this, the
/// instance clears every entry of its prefix when it is back instead.
const MAX_PENDING: usize = 10_000;

/// Stores an entry and adds its key to its tags' sets (which live as long
/// as their longest entry).
const PUT: &str = r#"
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local ttl = tonumber(ARGV[2])
for i = 2, #KEYS do
  redis.call('SADD', KEYS[i], ARGV[3])
  local left = redis.call('PTTL', KEYS[i])
  if left == -1 or (left >= 0 and left < ttl) then
    redis.call('PEXPIRE', KEYS[i], ttl)
  end
end
return 1
"#;

/// Marks the entries of a tag stale, then publishes the invalidation.
const MARK_STALE: &str = r#"
for _, key in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local entry = ARGV[1] .. key
  if redis.call('EXISTS', entry) == 1 then
    redis.call('HSET', entry, 's', '1')
  end
end
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
"#;

/// Removes the entries of a tag, then publishes the invalidation.
const EXPIRE: &str = r#"
for _, key in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  redis.call('DEL', ARGV[1] .. key)
end
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
"#;

/// An invalidation, as applied and as published.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Stale,
    Expire,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Stale => "stale",
            Op::Expire => "expire",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        match name {
            "stale" => Some(Op::Stale),
            "expire" => Some(Op::Expire),
            _ => None,
        }
    }
}

/// Invalidations made while Redis was away, in order.
#[derive(Default)]
struct Pending {
    ops: Vec<(Op, String)>,
    overflowed: bool,
}

/// The Redis [`CacheStore`] (see the [module docs](self)). Cheap to clone.
///
/// ```no_run
/// # #[tokio::main] async fn main() {
/// let store = tandem::RedisStore::open("redis://127.0.0.1:6379/").expect("a redis:// URL");
/// # }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    url: String,
    prefix: String,
    /// Tells this instance's own published invalidations apart.
    id: String,
    timeout: Duration,
    local: MemoryStore,
    /// The live connection; `None` while Redis is away.
    conn: Mutex<Option<MultiplexedConnection>>,
    /// Guarded by the same order as `conn`: take `pending`, then `conn`.
    pending: Mutex<Pending>,
    reconnecting: AtomicBool,
    put: Script,
    mark_stale: Script,
    expire: Script,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl RedisStore {
    /// A store on the Redis server at `url` (`redis://[:password@]host[:port][/db]`,
    /// `rediss://` for TLS is not built in). It connects in the background:
    /// until Redis answers, the instance serves from memory. Needs a Tokio
    /// runtime.
    ///
    /// ```no_run
    /// # #[tokio::main] async fn main() {
    /// let store = tandem::RedisStore::open("redis://127.0.0.1:6379/0").unwrap();
    /// assert!(tandem::RedisStore::open("http://nope").is_err());
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
        let store = Self {
            inner: Arc::new(Inner {
                client,
                url: url.to_string(),
                prefix: "tandem:".into(),
                id: format!("{:x}-{:x}", std::process::id(), nanos),
                timeout: DEFAULT_TIMEOUT,
                local: MemoryStore::new(DEFAULT_CAPACITY),
                conn: Mutex::new(None),
                pending: Mutex::new(Pending::default()),
                reconnecting: AtomicBool::new(false),
                put: Script::new(PUT),
                mark_stale: Script::new(MARK_STALE),
                expire: Script::new(EXPIRE),
            }),
        };
        store.start(&runtime);
        Ok(store)
    }

    /// Keeps this store's keys under `prefix` (default `tandem:`), so that
    /// several apps can share one Redis. Call it before any request.
    ///
    /// ```no_run
    /// # #[tokio::main] async fn main() {
    /// let store = tandem::RedisStore::open("redis://127.0.0.1/").unwrap().with_prefix("shop:");
    /// # }
    /// ```
    pub fn with_prefix(self, prefix: &str) -> Self {
        self.rebuild(|inner| inner.prefix = prefix.to_string())
    }

    /// How long a command may take before the instance serves from its
    /// memory instead (default [`DEFAULT_TIMEOUT`]).
    ///
    /// ```no_run
    /// # #[tokio::main] async fn main() {
    /// let store = tandem::RedisStore::open("redis://127.0.0.1/").unwrap()
    ///     .with_timeout(std::time::Duration::from_millis(200));
    /// # }
    /// ```
    pub fn with_timeout(self, timeout: Duration) -> Self {
        self.rebuild(|inner| inner.timeout = timeout)
    }

    /// How many entries the in-memory fallback keeps (default
    /// [`DEFAULT_CAPACITY`]).
    ///
    /// ```no_run
    /// # #[tokio::main] async fn main() {
    /// let store = tandem::RedisStore::open("redis://127.0.0.1/").unwrap().with_memory(1000);
    /// # }
    /// ```
    pub fn with_memory(self, capacity: usize) -> Self {
        self.rebuild(|inner| inner.local = MemoryStore::new(capacity))
    }

    /// Whether the store is on Redis right now (`false` while it serves
    /// from memory).
    ///
    /// ```no_run
    /// # #[tokio::main] async fn main() {
    /// let store = tandem::RedisStore::open("redis://127.0.0.1/").unwrap();
    /// println!("on redis: {}", store.is_connected());
    /// # }
    /// ```
    pub fn is_connected(&self) -> bool {
        lock(&self.inner.conn).is_some()
    }

    /// Rebuilds the shared state with one setting changed; the background
    /// tasks of the old one stop, new ones start.
    fn rebuild(self, change: impl FnOnce(&mut Inner)) -> Self {
        let old = &self.inner;
        let mut inner = Inner {
            client: old.client.clone(),
            url: old.url.clone(),
            prefix: old.prefix.clone(),
            id: old.id.clone(),
            timeout: old.timeout,
            local: MemoryStore::new(old.local.capacity()),
            conn: Mutex::new(None),
            pending: Mutex::new(Pending::default()),
            reconnecting: AtomicBool::new(false),
            put: Script::new(PUT),
            mark_stale: Script::new(MARK_STALE),
            expire: Script::new(EXPIRE),
        };
        change(&mut inner);
        let store = Self {
            inner: Arc::new(inner),
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            store.start(&runtime);
        }
        store
    }

    /// Starts the connection and the listener for other instances'
    /// invalidations. Both hold only a weak reference: they end with the
    /// store.
    fn start(&self, runtime: &tokio::runtime::Handle) {
        self.reconnect_in_background(runtime, true);
        let weak = Arc::downgrade(&self.inner);
        runtime.spawn(async move {
            let mut delay = Duration::from_millis(100);
            loop {
                let Some(inner) = weak.upgrade() else { return };
                let client = inner.client.clone();
                let channel = inner.channel();
                drop(inner);
                if let Ok(Ok(mut pubsub)) =
                    tokio::time::timeout(DEFAULT_TIMEOUT, client.get_async_pubsub()).await
                {
                    if pubsub.subscribe(&channel).await.is_ok() {
                        delay = Duration::from_millis(100);
                        let mut messages = pubsub.on_message();
                        while let Some(message) = messages.next().await {
                            let Some(inner) = weak.upgrade() else { return };
                            if let Ok(text) = message.get_payload::<String>() {
                                inner.apply_published(&text);
                            }
                        }
                    }
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(2));
            }
        });
    }

    /// Connects in the background, once at a time, until Redis answers;
    /// then replays what was invalidated meanwhile.
    fn reconnect_in_background(&self, runtime: &tokio::runtime::Handle, first: bool) {
        if self.inner.reconnecting.swap(true, Ordering::SeqCst) {
            return;
        }
        let weak = Arc::downgrade(&self.inner);
        runtime.spawn(async move {
            let mut delay = Duration::from_millis(50);
            let mut told = false;
            loop {
                let Some(inner) = weak.upgrade() else { return };
                match inner.try_connect().await {
                    Ok(()) => {
                        if told || !first {
                            leptos::logging::log!("tandem: reconnected to the Redis cache at {}", inner.url);
                        }
                        inner.reconnecting.store(false, Ordering::SeqCst);
                        return;
                    }
                    Err(e) => {
                        if first && !told {
                            leptos::logging::warn!(
                                "tandem: cannot reach the Redis cache at {} ({e}); serving from this \
                                 instance's memory and retrying",
                                inner.url
                            );
                        }
                        told = true;
                    }
                }
                drop(inner);
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(2));
            }
        });
    }

    /// Redis failed or did not answer: serve from memory, reconnect.
    fn lost(&self, why: &str) {
        let was_up = lock(&self.inner.conn).take().is_some();
        if was_up {
            leptos::logging::warn!(
                "tandem: lost the Redis cache at {} ({why}); serving from this instance's \
                 memory until it is back",
                self.inner.url
            );
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            self.reconnect_in_background(&runtime, false);
        }
    }

    fn connection(&self) -> Option<MultiplexedConnection> {
        lock(&self.inner.conn).clone()
    }

    async fn invalidate(&self, op: Op, tag: &str) {
        match op {
            Op::Stale => self.inner.local.mark_stale_now(tag),
            Op::Expire => self.inner.local.expire_now(tag),
        }
        let conn = {
            let mut pending = lock(&self.inner.pending);
            match self.connection() {
                Some(conn) => conn,
                None => {
                    pending.push(op, tag);
                    return;
                }
            }
        };
        if let Err(e) = self.inner.send(conn, op, tag).await {
            lock(&self.inner.pending).push(op, tag);
            self.lost(&e);
        }
    }
}

impl Pending {
    fn push(&mut self, op: Op, tag: &str) {
        if self.ops.iter().any(|(o, t)| *o == op && t == tag) {
            return;
        }
        if self.ops.len() >= MAX_PENDING {
            self.overflowed = true;
            self.ops.clear();
        }
        if !self.overflowed {
            self.ops.push((op, tag.to_string()));
        }
    }
}

impl Inner {
    fn channel(&self) -> String {
        format!("{}invalidate", self.prefix)
    }

    fn entry_key(&self, key: &str) -> String {
        format!("{}e:{key}", self.prefix)
    }

    fn tag_key(&self, tag: &str) -> String {
        format!("{}t:{tag}", self.prefix)
    }

    /// Connects, replays the pending invalidations, then goes live (under
    /// the `pending` lock, so that none slips in between).
    async fn try_connect(&self) -> Result<(), String> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout));
        let conn = self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(|e| e.to_string())?;
        loop {
            let replay = std::mem::take(&mut *lock(&self.pending));
            if replay.ops.is_empty() && !replay.overflowed {
                let pending = lock(&self.pending);
                if pending.ops.is_empty() && !pending.overflowed {
                    // Other instances' invalidations may have been missed.
                    self.local.clear();
                    *lock(&self.conn) = Some(conn);
                    drop(pending);
                    return Ok(());
                }
                continue;
            }
            if let Err(e) = self.replay(conn.clone(), &replay).await {
                let mut pending = lock(&self.pending);
                let newer = std::mem::take(&mut *pending);
                *pending = replay;
                for (op, tag) in newer.ops {
                    pending.push(op, &tag);
                }
                pending.overflowed |= newer.overflowed;
                return Err(e);
            }
        }
    }

    async fn replay(&self, conn: MultiplexedConnection, pending: &Pending) -> Result<(), String> {
        if pending.overflowed {
            self.clear_prefix(conn.clone()).await?;
        }
        for (op, tag) in &pending.ops {
            self.send(conn.clone(), *op, tag).await?;
        }
        Ok(())
    }

    /// Deletes every key under the prefix (after too many invalidations
    /// were missed to replay them one by one).
    async fn clear_prefix(&self, mut conn: MultiplexedConnection) -> Result<(), String> {
        let pattern = format!("{}*", glob_escape(&self.prefix));
        let mut cursor: u64 = 0;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(500)
                .query_async(&mut conn)
                .await
                .map_err(|e| e.to_string())?;
            if !keys.is_empty() {
                redis::cmd("DEL")
                    .arg(&keys)
                    .query_async::<()>(&mut conn)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            if next == 0 {
                return Ok(());
            }
            cursor = next;
        }
    }

    /// Applies an invalidation in Redis and publishes it.
    async fn send(&self, mut conn: MultiplexedConnection, op: Op, tag: &str) -> Result<(), String> {
        let script = match op {
            Op::Stale => &self.mark_stale,
            Op::Expire => &self.expire,
        };
        let message = format!("{} {} {tag}", self.id, op.name());
        let mut invocation = script.key(self.tag_key(tag));
        invocation
            .arg(self.entry_key(""))
            .arg(self.channel())
            .arg(message);
        self.within(invocation.invoke_async::<i64>(&mut conn))
            .await
            .map(drop)
    }

    /// A command's result, or why it failed (an error, or no answer in
    /// time).
    async fn within<T>(
        &self,
        call: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, String> {
        match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer within {:?}", self.timeout)),
        }
    }

    /// Another instance's invalidation, applied to this one's memory.
    fn apply_published(&self, text: &str) {
        let mut parts = text.splitn(3, ' ');
        let (Some(from), Some(op), Some(tag)) = (parts.next(), parts.next(), parts.next()) else {
            return;
        };
        if from == self.id {
            return;
        }
        match Op::parse(op) {
            Some(Op::Stale) => self.local.mark_stale_now(tag),
            Some(Op::Expire) => self.local.expire_now(tag),
            None => {}
        }
    }
}

/// Escapes Redis glob characters in a literal prefix.
fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl CacheStore for RedisStore {
    fn get<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Entry>> {
        Box::pin(async move {
            let Some(mut conn) = self.connection() else {
                return self.inner.local.get_now(key);
            };
            let mut command = redis::cmd("HMGET");
            command.arg(self.inner.entry_key(key)).arg("v").arg("s");
            let read = command.query_async::<(Option<String>, Option<String>)>(&mut conn);
            match self.inner.within(read).await {
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
                        Some(entry) => self.inner.local.put_now(key, entry.clone()),
                        None => self.inner.local.remove_now(key),
                    }
                    entry
                }
                Err(e) => {
                    self.lost(&e);
                    self.inner.local.get_now(key)
                }
            }
        })
    }

    fn put<'a>(&'a self, key: &'a str, entry: Entry) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            self.inner.local.put_now(key, entry.clone());
            let Some(mut conn) = self.connection() else {
                return;
            };
            let ttl = entry.remaining_ms();
            if ttl == 0 {
                return;
            }
            let Ok(json) = serde_json::to_string(&entry) else {
                return;
            };
            let mut call = self.inner.put.key(self.inner.entry_key(key));
            for tag in &entry.tags {
                call.key(self.inner.tag_key(tag));
            }
            call.arg(json).arg(ttl).arg(key);
            if let Err(e) = self.inner.within(call.invoke_async::<i64>(&mut conn)).await {
                self.lost(&e);
            }
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
    use crate::cache::Cache;
    use std::process::{Child, Command, Stdio};

    pub(crate) struct RedisServer {
        pub port: u16,
        child: Child,
    }

    impl RedisServer {
        pub fn start_on(port: u16) -> Self {
            let child =
                Command::new(std::env::var("REDIS_SERVER").unwrap_or("redis-server".into()))
                    .args([
                        "--port",
                        &port.to_string(),
                        "--bind",
                        "127.0.0.1",
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                    ])
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
            Self { port, child }
        }

        pub fn start() -> Self {
            Self::start_on(free_port())
        }

        pub fn url(&self) -> String {
            format!("redis://127.0.0.1:{}/", self.port)
        }

        pub fn kill(&mut self) {
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
        for _ in 0..200 {
            if store.is_connected() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the store did not connect to Redis");
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
        // Give b's listener time to subscribe.
        tokio::time::sleep(Duration::from_millis(200)).await;
        b.put("k", entry("v", &["t"])).await;
        assert!(b.inner.local.get_now("k").is_some());
        a.expire("t").await;
        for _ in 0..100 {
            if b.inner.local.get_now("k").is_none() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("b's memory still holds the expired entry");
    }

    #[tokio::test]
    async fn without_redis_it_serves_from_memory_and_replays_on_return() {
        let mut redis = RedisServer::start();
        let port = redis.port;
        let a = RedisStore::open(&redis.url())
            .unwrap()
            .with_timeout(Duration::from_millis(200));
        let b = RedisStore::open(&redis.url()).unwrap();
        connected(&a).await;
        connected(&b).await;
        a.put("price", entry("1", &["price"])).await;

        redis.kill();
        // a notices on its next command and falls back to memory.
        assert_eq!(a.get("price").await.map(|e| e.value), Some("1".into()));
        assert_eq!(a.get("price").await.map(|e| e.value), Some("1".into()));
        assert!(!a.is_connected());
        // Its own invalidation applies at once, and is kept for Redis.
        a.expire("price").await;
        assert_eq!(a.get("price").await, None);

        // Redis comes back empty here, so put the old entry back as if it
        // had kept its data: the replay must remove it.
        let _redis = RedisServer::start_on(port);
        let direct = RedisStore::open(&format!("redis://127.0.0.1:{port}/")).unwrap();
        connected(&direct).await;
        direct.put("price", entry("1", &["price"])).await;
        connected(&a).await;
        connected(&b).await;
        assert_eq!(b.get("price").await, None, "a's expire was replayed");
    }

    #[tokio::test]
    async fn cache_reads_through_redis_across_instances() {
        let redis = RedisServer::start();
        let a = Cache::new(RedisStore::open(&redis.url()).unwrap());
        let b_store = RedisStore::open(&redis.url()).unwrap();
        connected(&b_store).await;
        let b = Cache::new(b_store);
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
        // Let a connect too.
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(read(&a, 1).await, 1);
        assert_eq!(read(&b, 2).await, 1, "b reads a's entry");
        a.apply(&crate::flight::Effects {
            updated_tags: vec!["n".into()],
            ..Default::default()
        })
        .await;
        assert_eq!(read(&b, 3).await, 3, "b's next read is fresh");
        b.apply(&crate::flight::Effects {
            revalidated_paths: vec!["/tags".into()],
            ..Default::default()
        })
        .await;
        assert_eq!(read(&a, 4).await, 4, "a path revalidated on b");
    }

    #[test]
    fn glob_characters_are_escaped() {
        assert_eq!(glob_escape("a*b?[c]"), "a\\*b\\?\\[c\\]");
    }

    #[tokio::test]
    async fn open_refuses_other_schemes() {
        assert!(matches!(
            RedisStore::open("http://127.0.0.1/"),
            Err(CacheConfigError::BadUrl { .. })
        ));
    }
}
