//! The store's link to Redis: connecting in the background, noticing a
//! lost connection, keeping invalidations made while Redis is away and
//! replaying them when it is back, and listening to other instances'
//! invalidations.

use super::super::memory::MemoryStore;
use super::commands::{self, Keys, Op, Scripts};
use futures::StreamExt;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Invalidations kept for replay while Redis is away; past this, the
/// instance clears every entry of its prefix when it is back instead.
const MAX_PENDING: usize = 10_000;

/// The connection to Redis.
#[derive(Default)]
pub(super) struct Link {
    /// `None` while Redis is away.
    pub(super) conn: Option<MultiplexedConnection>,
    /// Counts connections, so that a late failure on an old one does not
    /// drop a newer one.
    pub(super) generation: u64,
    /// Whether a task is connecting (one at a time).
    reconnecting: bool,
}

/// Why a command failed.
#[derive(Debug)]
pub(super) enum Failure {
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

/// Invalidations made while Redis was away, in order.
#[derive(Default)]
pub(super) struct Pending {
    ops: Vec<(Op, String)>,
    overflowed: bool,
}

impl Pending {
    pub(super) fn push(&mut self, op: Op, tag: &str) {
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

/// What the `with_*` methods of the store change.
pub(super) struct Settings {
    pub(super) prefix: String,
    pub(super) timeout: Duration,
    pub(super) memory: usize,
}

/// The state one store (and its clones) shares.
pub(super) struct Inner {
    pub(super) client: Client,
    pub(super) url: String,
    pub(super) keys: Keys,
    pub(super) scripts: Scripts,
    /// Tells this instance's own published invalidations apart.
    pub(super) id: String,
    pub(super) timeout: Duration,
    pub(super) local: MemoryStore,
    /// The connection, and whether one is being made. Locks are taken in
    /// this order: `pending`, then `link`.
    pub(super) link: Mutex<Link>,
    pub(super) pending: Mutex<Pending>,
    pub(super) runtime: tokio::runtime::Handle,
    /// The background tasks, stopped when the store goes.
    tasks: Mutex<Vec<tokio::task::AbortHandle>>,
}

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Drop for Inner {
    fn drop(&mut self) {
        for task in lock(&self.tasks).drain(..) {
            task.abort();
        }
    }
}

impl Inner {
    pub(super) fn new(
        client: Client,
        url: String,
        runtime: tokio::runtime::Handle,
        id: String,
        settings: Settings,
    ) -> Self {
        Self {
            client,
            url,
            keys: Keys::new(settings.prefix),
            scripts: Scripts::load(),
            id,
            timeout: settings.timeout,
            local: MemoryStore::new(settings.memory),
            link: Mutex::new(Link::default()),
            pending: Mutex::new(Pending::default()),
            runtime,
            tasks: Mutex::new(Vec::new()),
        }
    }

    /// The live connection and its generation, if any.
    pub(super) fn connection(&self) -> Option<(MultiplexedConnection, u64)> {
        let link = lock(&self.link);
        link.conn.clone().map(|c| (c, link.generation))
    }

    /// Starts the connection and the listener for other instances'
    /// invalidations. Both hold only a weak reference, and stop when the
    /// store is dropped.
    pub(super) fn start(self: &Arc<Self>) {
        self.reconnect(true);
        let weak = Arc::downgrade(self);
        let listener = self.runtime.spawn(async move {
            let mut delay = Duration::from_millis(100);
            loop {
                let Some(inner) = weak.upgrade() else { return };
                let client = inner.client.clone();
                let channel = inner.keys.channel();
                let timeout = inner.timeout;
                drop(inner);
                if let Ok(Ok(mut pubsub)) =
                    tokio::time::timeout(timeout, client.get_async_pubsub()).await
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
                        tracing::info!(
                            url = inner.url,
                            "tandem: {again}connected to the Redis cache"
                        );
                        return;
                    }
                    Err(e) if !told => {
                        tracing::warn!(
                            url = inner.url,
                            "tandem: cannot reach the Redis cache ({e}); serving from this \
                             instance's memory and retrying"
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
    pub(super) fn lost(self: &Arc<Self>, generation: u64, why: &str) {
        {
            let mut link = lock(&self.link);
            if link.generation != generation || link.conn.is_none() {
                return;
            }
            link.conn = None;
        }
        tracing::warn!(
            url = self.url,
            "tandem: lost the Redis cache ({why}); serving from this instance's memory until \
             it is back"
        );
        self.reconnect(false);
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
                tracing::error!("tandem: Redis refused a kept invalidation: {e}");
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
        let mut cursor = 0;
        loop {
            cursor = self
                .within(commands::clear_page(&mut conn, &self.keys, cursor))
                .await?;
            if cursor == 0 {
                return Ok(());
            }
        }
    }

    /// Applies an invalidation in Redis and publishes it.
    pub(super) async fn send(
        &self,
        mut conn: MultiplexedConnection,
        op: Op,
        tag: &str,
    ) -> Result<(), Failure> {
        self.within(commands::invalidate(
            &mut conn,
            &self.keys,
            &self.scripts,
            &self.id,
            op,
            tag,
        ))
        .await
    }

    /// A command's result, or why it failed (an error, or no answer in
    /// time).
    pub(super) async fn within<T>(
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
        match commands::parse_published(text) {
            Some((from, _, _)) if from == self.id => {}
            Some((_, Op::Stale, tag)) => self.local.mark_stale_now(tag),
            Some((_, Op::Expire, tag)) => self.local.expire_now(tag),
            None => {}
        }
    }
}
