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
//! keys it covers. Each tag also counts its invalidations in
//! `{prefix}v:{tag}`: a value fetched after a miss is put only if no
//! instance invalidated one of its tags while it was being read (see
//! [`CacheStore::mark`]). Invalidations go out on `{prefix}invalidate`.

use crate::cache::{
    CacheConfigError, CacheStore, Entry, Mark, MemoryStore, StoreFuture, DEFAULT_CAPACITY,
};
use futures::StreamExt;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client, Script};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// How long a Redis command may take before the instance falls back to its
/// memory.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(500);

/// Invalidations kept for replay while Redis is away; past this, the
/// instance clears every entry of its prefix when it is back instead.
const MAX_PENDING: usize = 10_000;

/// Stores an entry and adds its key to its tags' sets (which live as long
/// as their longest entry), unless (when marks are given: the tags' epoch
/// keys last in KEYS, the marks after the 3 first ARGV) a tag was
/// invalidated since the marks were taken.
const PUT: &str = r#"
local checks = #ARGV - 3
for i = 1, checks do
  local now = tonumber(redis.call('GET', KEYS[#KEYS - checks + i]) or '0')
  if now ~= tonumber(ARGV[3 + i]) then
    return 0
  end
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local ttl = tonumber(ARGV[2])
for i = 2, #KEYS - checks do
  redis.call('SADD', KEYS[i], ARGV[3])
  local left = redis.call('PTTL', KEYS[i])
  if left == -1 or (left >= 0 and left < ttl) then
    redis.call('PEXPIRE', KEYS[i], ttl)
  end
end
return 1
"#;

/// Marks the entries of a tag stale, counts it in the tag's epoch, then
/// publishes the invalidation.
const MARK_STALE: &str = r#"
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], 86400000)
for _, key in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local entry = ARGV[1] .. key
  if redis.call('EXISTS', entry) == 1 then
    redis.call('HSET', entry, 's', '1')
  end
end
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
"#;

/// Removes the entries of a tag, counts it in the tag's epoch, then
/// publishes the invalidation.
const EXPIRE: &str = r#"
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], 86400000)
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

/// The connection to Redis.
#[derive(Default)]
struct Link {
    /// `None` while Redis is away.
    conn: Option<MultiplexedConnection>,
    /// Counts connections, so that a late failure on an old one does not
    /// drop a newer one.
    generation: u64,
    /// Whether a task is connecting (one at a time).
    reconnecting: bool,
}

/// Why a command failed.
#[derive(Debug)]
enum Failure {
    /// The connection: an I/O error, a dropped or refused connection, or
    /// no answer in time. The instance falls back to memory.
    Link(String),
    /// Redis answered with an error: this command failed, the connection
    /// is fine.
    Command(String),
}

impl Failure {
    fn of(e: redis::RedisError) -> Self {
        if e.is_io_error()
            || e.is_connection_dropped()
            || e.is_connection_refusal()
            || e.is_timeout()
            || e.is_unrecoverable_error()
        {
            Failure::Link(e.to_string())
        } else {
            Failure::Command(e.to_string())
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Link(e) | Failure::Command(e) => f.write_str(e),
        }
    }
}

/// The longest TTL given to an entry in Redis (ten years): a longer
/// lifetime is out of `PEXPIRE`'s range.
const MAX_TTL_MS: u64 = 10 * 365 * 24 * 60 * 60 * 1000;

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
    /// The connection, and whether one is being made. Locks are taken in
    /// this order: `pending`, then `link`.
    link: Mutex<Link>,
    pending: Mutex<Pending>,
    runtime: tokio::runtime::Handle,
    /// The background tasks, stopped when the store goes.
    tasks: Mutex<Vec<tokio::task::AbortHandle>>,
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
    /// let store = tandem::RedisStore::open("redis://127.0.0.1/").unwrap().with_prefix("shop:");
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
    /// let store = tandem::RedisStore::open("redis://127.0.0.1/").unwrap()
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
    /// let store = tandem::RedisStore::open("redis://127.0.0.1/").unwrap().with_memory(1000);
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
    /// let store = tandem::RedisStore::open("redis://127.0.0.1/").unwrap();
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
            prefix: old.prefix.clone(),
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

    fn connection(&self) -> Option<(MultiplexedConnection, u64)> {
        let link = lock(&self.inner.link);
        link.conn.clone().map(|c| (c, link.generation))
    }

    /// Puts the entry in Redis, unless `epochs` are given and one of its
    /// tags was invalidated since they were read.
    async fn put_in_redis(&self, key: &str, entry: Entry, epochs: Option<&[u64]>) {
        let Some((mut conn, generation)) = self.connection() else {
            return;
        };
        let ttl = entry.remaining_ms().min(MAX_TTL_MS);
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
        if let Some(epochs) = epochs {
            for (tag, epoch) in entry.tags.iter().zip(epochs) {
                call.key(self.inner.epoch_key(tag));
                call.arg(*epoch);
            }
        }
        match self.inner.within(call.invoke_async::<i64>(&mut conn)).await {
            Ok(_) => {}
            Err(Failure::Link(e)) => self.inner.lost(generation, &e),
            Err(Failure::Command(e)) => {
                leptos::logging::warn!("tandem: Redis refused the cache entry {key:?}: {e}")
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
            match self.connection() {
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
            Err(Failure::Command(e)) => leptos::logging::error!(
                "tandem: Redis refused to {} the tag {tag:?}: {e}",
                op.name()
            ),
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

/// What the `with_*` methods change.
struct Settings {
    prefix: String,
    timeout: Duration,
    memory: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            prefix: "tandem:".into(),
            timeout: DEFAULT_TIMEOUT,
            memory: DEFAULT_CAPACITY,
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        for task in lock(&self.tasks).drain(..) {
            task.abort();
        }
    }
}

impl Inner {
    fn new(
        client: Client,
        url: String,
        runtime: tokio::runtime::Handle,
        id: String,
        settings: Settings,
    ) -> Self {
        Self {
            client,
            url,
            prefix: settings.prefix,
            id,
            timeout: settings.timeout,
            local: MemoryStore::new(settings.memory),
            link: Mutex::new(Link::default()),
            pending: Mutex::new(Pending::default()),
            runtime,
            tasks: Mutex::new(Vec::new()),
            put: Script::new(PUT),
            mark_stale: Script::new(MARK_STALE),
            expire: Script::new(EXPIRE),
        }
    }

    /// Starts the connection and the listener for other instances'
    /// invalidations. Both hold only a weak reference, and stop when the
    /// store is dropped.
    fn start(self: &Arc<Self>) {
        self.reconnect(true);
        let weak = Arc::downgrade(self);
        let listener = self.runtime.spawn(async move {
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
        lock(&self.tasks).push(listener.abort_handle());
    }

    /// Connects in the background, one task at a time, until Redis answers;
    /// the task replays what was invalidated meanwhile and goes live.
    fn reconnect(self: &Arc<Self>, first: bool) {
        {
            let mut link = lock(&self.link);
            if link.reconnecting {
                return;
            }
            link.reconnecting = true;
        }
        let weak = Arc::downgrade(self);
        let task = self.runtime.spawn(async move {
            let mut delay = Duration::from_millis(50);
            let mut told = false;
            loop {
                let Some(inner) = weak.upgrade() else { return };
                match inner.try_connect().await {
                    Ok(()) => {
                        let again = if first { "" } else { "re" };
                        leptos::logging::log!(
                            "tandem: {again}connected to the Redis cache at {}",
                            inner.url
                        );
                        return;
                    }
                    Err(e) if !told => {
                        leptos::logging::warn!(
                            "tandem: cannot reach the Redis cache at {} ({e}); serving from this \
                             instance's memory and retrying",
                            inner.url
                        );
                        told = true;
                    }
                    Err(_) => {}
                }
                drop(inner);
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(2));
            }
        });
        let mut tasks = lock(&self.tasks);
        tasks.retain(|t| !t.is_finished());
        tasks.push(task.abort_handle());
    }

    /// The connection of `generation` failed: serve from memory and
    /// reconnect (unless a newer connection is already live).
    fn lost(self: &Arc<Self>, generation: u64, why: &str) {
        {
            let mut link = lock(&self.link);
            if link.generation != generation || link.conn.is_none() {
                return;
            }
            link.conn = None;
        }
        leptos::logging::warn!(
            "tandem: lost the Redis cache at {} ({why}); serving from this instance's memory \
             until it is back",
            self.url
        );
        self.reconnect(false);
    }

    fn channel(&self) -> String {
        format!("{}invalidate", self.prefix)
    }

    fn entry_key(&self, key: &str) -> String {
        format!("{}e:{key}", self.prefix)
    }

    fn tag_key(&self, tag: &str) -> String {
        format!("{}t:{tag}", self.prefix)
    }

    /// Counts the tag's invalidations (a day long: a mark lives for one
    /// fetch).
    fn epoch_key(&self, tag: &str) -> String {
        format!("{}v:{tag}", self.prefix)
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
                    let mut link = lock(&self.link);
                    link.conn = Some(conn);
                    link.generation += 1;
                    link.reconnecting = false;
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

    /// Sends the kept invalidations. One Redis refuses is logged and
    /// dropped (it would be refused again); a lost connection stops the
    /// replay, to be tried again.
    async fn replay(&self, conn: MultiplexedConnection, pending: &Pending) -> Result<(), String> {
        let stop = |failure: Failure| match failure {
            Failure::Link(e) => Err(e),
            Failure::Command(e) => {
                leptos::logging::error!("tandem: Redis refused a kept invalidation: {e}");
                Ok(())
            }
        };
        if pending.overflowed {
            if let Err(failure) = self.clear_prefix(conn.clone()).await {
                stop(failure)?;
            }
        }
        for (op, tag) in &pending.ops {
            if let Err(failure) = self.send(conn.clone(), *op, tag).await {
                stop(failure)?;
            }
        }
        Ok(())
    }

    /// Deletes every key under the prefix (after too many invalidations
    /// were missed to replay them one by one).
    async fn clear_prefix(&self, mut conn: MultiplexedConnection) -> Result<(), Failure> {
        let pattern = format!("{}*", glob_escape(&self.prefix));
        let mut cursor: u64 = 0;
        loop {
            let mut scan = redis::cmd("SCAN");
            scan.arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(500);
            let (next, keys): (u64, Vec<String>) = self.within(scan.query_async(&mut conn)).await?;
            if !keys.is_empty() {
                let mut del = redis::cmd("DEL");
                del.arg(&keys);
                self.within(del.query_async::<()>(&mut conn)).await?;
            }
            if next == 0 {
                return Ok(());
            }
            cursor = next;
        }
    }

    /// Applies an invalidation in Redis and publishes it.
    async fn send(
        &self,
        mut conn: MultiplexedConnection,
        op: Op,
        tag: &str,
    ) -> Result<(), Failure> {
        let script = match op {
            Op::Stale => &self.mark_stale,
            Op::Expire => &self.expire,
        };
        let message = format!("{} {} {tag}", self.id, op.name());
        let mut invocation = script.key(self.tag_key(tag));
        invocation.key(self.epoch_key(tag));
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
    ) -> Result<T, Failure> {
        match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(Failure::of(e)),
            Err(_) => Err(Failure::Link(format!(
                "no answer within {:?}",
                self.timeout
            ))),
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
            let Some((mut conn, generation)) = self.connection() else {
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
                Err(Failure::Link(e)) => {
                    self.inner.lost(generation, &e);
                    self.inner.local.get_now(key)
                }
                // Not a value this store wrote (or Redis refused the read):
                // a miss, so the value is fetched again and put back.
                Err(Failure::Command(e)) => {
                    leptos::logging::warn!(
                        "tandem: reading the cache entry {key:?} from Redis: {e}"
                    );
                    self.inner.local.remove_now(key);
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
            let local = self.inner.local.mark_now();
            let Some((mut conn, generation)) = self.connection() else {
                return local;
            };
            let mut mget = redis::cmd("MGET");
            for tag in tags {
                mget.arg(self.inner.epoch_key(tag));
            }
            match self
                .inner
                .within(mget.query_async::<Vec<Option<u64>>>(&mut conn))
                .await
            {
                Ok(epochs) if epochs.len() == tags.len() => {
                    let mut mark = local;
                    mark.0
                        .extend(epochs.into_iter().map(Option::unwrap_or_default));
                    mark
                }
                Ok(_) => local,
                Err(Failure::Link(e)) => {
                    self.inner.lost(generation, &e);
                    local
                }
                Err(Failure::Command(e)) => {
                    leptos::logging::warn!("tandem: reading tag epochs from Redis: {e}");
                    local
                }
            }
        })
    }

    fn put_since<'a>(&'a self, key: &'a str, entry: Entry, mark: Mark) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let local = Mark(mark.0.iter().take(1).copied().collect());
            self.inner.local.put_since_now(key, entry.clone(), &local);
            // Without Redis's epochs (Redis was away at the mark), the
            // entry stays in memory only.
            if mark.0.len() == 1 + entry.tags.len() {
                self.put_in_redis(key, entry, Some(&mark.0[1..])).await;
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
            cmd.arg("NUMSUB").arg(store.inner.channel());
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
        exists.arg(a.inner.entry_key("price"));
        assert_eq!(
            redis.command::<i64>(&exists).await,
            0,
            "a's expire was replayed"
        );
        let mut exists = redis::cmd("EXISTS");
        exists.arg(a.inner.entry_key("other"));
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
        let (_, old) = a.connection().expect("live");
        // Lose it, and let the reconnect bring a new one.
        a.inner.lost(old, "test");
        connected(&a).await;
        let (_, new) = a.connection().expect("live again");
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
        set.arg(a.inner.entry_key("k")).arg("not a hash");
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
        ttl.arg(a.inner.entry_key("long"));
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
