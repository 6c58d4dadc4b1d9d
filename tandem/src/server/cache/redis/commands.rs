//! What the store says to Redis: its keys, its Lua scripts, and the
//! commands built from them. Nothing here waits or retries; the
//! connection module does that.

use super::super::store::Entry;
use redis::aio::MultiplexedConnection;
use redis::{RedisResult, Script};

/// The longest TTL given to an entry in Redis (ten years): a longer
/// lifetime is out of `PEXPIRE`'s range.
const MAX_TTL_MS: u64 = 10 * 365 * 24 * 60 * 60 * 1000;

/// An invalidation, as applied and as published.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Op {
    /// `revalidate_tag`: the entries stay, marked stale.
    Stale,
    /// `update_tag`, `revalidate_path`: the entries go.
    Expire,
}

impl Op {
    pub(super) fn name(self) -> &'static str {
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

/// The names of the store's keys, under its prefix.
pub(super) struct Keys {
    prefix: String,
}

impl Keys {
    pub(super) fn new(prefix: String) -> Self {
        Self { prefix }
    }

    pub(super) fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The channel invalidations are published on.
    pub(super) fn channel(&self) -> String {
        format!("{}invalidate", self.prefix)
    }

    /// An entry: a hash (`v`: the entry as JSON, `s`: set when stale).
    pub(super) fn entry(&self, key: &str) -> String {
        format!("{}e:{key}", self.prefix)
    }

    /// A tag: the set of the keys it covers.
    pub(super) fn tag(&self, tag: &str) -> String {
        format!("{}t:{tag}", self.prefix)
    }

    /// Counts the tag's invalidations (a day long: a mark lives for one
    /// fetch).
    pub(super) fn epoch(&self, tag: &str) -> String {
        format!("{}v:{tag}", self.prefix)
    }
}

/// The store's Lua scripts, each one atomic in Redis.
pub(super) struct Scripts {
    put: Script,
    tie: Script,
    mark_stale: Script,
    expire: Script,
}

impl Scripts {
    pub(super) fn load() -> Self {
        Self {
            put: Script::new(include_str!("put.lua")),
            tie: Script::new(include_str!("tie.lua")),
            mark_stale: Script::new(include_str!("mark_stale.lua")),
            expire: Script::new(include_str!("expire.lua")),
        }
    }
}

/// Reads an entry: its JSON and its stale mark.
pub(super) async fn read(
    conn: &mut MultiplexedConnection,
    keys: &Keys,
    key: &str,
) -> RedisResult<(Option<String>, Option<String>)> {
    let mut command = redis::cmd("HMGET");
    command.arg(keys.entry(key)).arg("v").arg("s");
    command.query_async(conn).await
}

/// Puts an entry, unless `epochs` (one per tag, in order) are given and a
/// tag was invalidated since they were read. `Ok(false)`: nothing to put
/// (expired, or not serializable).
pub(super) async fn put(
    conn: &mut MultiplexedConnection,
    keys: &Keys,
    scripts: &Scripts,
    key: &str,
    entry: &Entry,
    epochs: Option<&[u64]>,
) -> RedisResult<bool> {
    let ttl = entry.remaining_ms().min(MAX_TTL_MS);
    let Ok(json) = serde_json::to_string(entry) else {
        return Ok(false);
    };
    if ttl == 0 {
        return Ok(false);
    }
    let mut call = scripts.put.key(keys.entry(key));
    for tag in &entry.tags {
        call.key(keys.tag(tag));
    }
    call.arg(json).arg(ttl).arg(key);
    if let Some(epochs) = epochs {
        for (tag, epoch) in entry.tags.iter().zip(epochs) {
            call.key(keys.epoch(tag));
            call.arg(*epoch);
        }
    }
    call.invoke_async::<i64>(conn).await.map(|_| true)
}

/// Adds `key` (whose entry has `ttl_ms` left) to the sets of `tags`.
pub(super) async fn tie(
    conn: &mut MultiplexedConnection,
    keys: &Keys,
    scripts: &Scripts,
    key: &str,
    tags: &[String],
    ttl_ms: u64,
) -> RedisResult<()> {
    let ttl = ttl_ms.min(MAX_TTL_MS);
    if ttl == 0 || tags.is_empty() {
        return Ok(());
    }
    let mut call = scripts.tie.prepare_invoke();
    for tag in tags {
        call.key(keys.tag(tag));
    }
    call.arg(key).arg(ttl);
    call.invoke_async::<i64>(conn).await.map(drop)
}

/// One page of the tags that start with `tag_prefix` (a SCAN of their
/// sets), and the cursor of the next page (0: done).
pub(super) async fn tags_page(
    conn: &mut MultiplexedConnection,
    keys: &Keys,
    tag_prefix: &str,
    cursor: u64,
) -> RedisResult<(u64, Vec<String>)> {
    let set_prefix = keys.tag("");
    let mut scan = redis::cmd("SCAN");
    scan.arg(cursor)
        .arg("MATCH")
        .arg(format!("{}*", glob_escape(&keys.tag(tag_prefix))))
        .arg("COUNT")
        .arg(500);
    let (next, found): (u64, Vec<String>) = scan.query_async(conn).await?;
    let tags = found
        .into_iter()
        .filter_map(|k| k.strip_prefix(&set_prefix).map(str::to_string))
        .collect();
    Ok((next, tags))
}

/// Each tag's epoch now (0 for a tag never invalidated).
pub(super) async fn epochs(
    conn: &mut MultiplexedConnection,
    keys: &Keys,
    tags: &[String],
) -> RedisResult<Vec<u64>> {
    let mut mget = redis::cmd("MGET");
    for tag in tags {
        mget.arg(keys.epoch(tag));
    }
    let epochs: Vec<Option<u64>> = mget.query_async(conn).await?;
    Ok(epochs.into_iter().map(Option::unwrap_or_default).collect())
}

/// Applies an invalidation in Redis and publishes it as `from`'s.
pub(super) async fn invalidate(
    conn: &mut MultiplexedConnection,
    keys: &Keys,
    scripts: &Scripts,
    from: &str,
    op: Op,
    tag: &str,
) -> RedisResult<()> {
    let script = match op {
        Op::Stale => &scripts.mark_stale,
        Op::Expire => &scripts.expire,
    };
    let mut invocation = script.key(keys.tag(tag));
    invocation.key(keys.epoch(tag));
    invocation
        .arg(keys.entry(""))
        .arg(keys.channel())
        .arg(published(from, op, tag));
    invocation.invoke_async::<i64>(conn).await.map(drop)
}

/// One page of the keys under the prefix, deleted; the cursor of the next
/// page (0: done).
pub(super) async fn clear_page(
    conn: &mut MultiplexedConnection,
    keys: &Keys,
    cursor: u64,
) -> RedisResult<u64> {
    let mut scan = redis::cmd("SCAN");
    scan.arg(cursor)
        .arg("MATCH")
        .arg(format!("{}*", glob_escape(keys.prefix())))
        .arg("COUNT")
        .arg(500);
    let (next, found): (u64, Vec<String>) = scan.query_async(&mut *conn).await?;
    if !found.is_empty() {
        let mut del = redis::cmd("DEL");
        del.arg(&found);
        del.query_async::<()>(conn).await?;
    }
    Ok(next)
}

/// The message published for an invalidation.
fn published(from: &str, op: Op, tag: &str) -> String {
    format!("{from} {} {tag}", op.name())
}

/// A published message: who sent it, what and which tag.
pub(super) fn parse_published(text: &str) -> Option<(&str, Op, &str)> {
    let mut parts = text.splitn(3, ' ');
    let (from, op, tag) = (parts.next()?, parts.next()?, parts.next()?);
    Some((from, Op::parse(op)?, tag))
}

/// Escapes Redis glob characters in a literal prefix.
pub(super) fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_characters_are_escaped() {
        assert_eq!(glob_escape("a*b?[c]"), "a\\*b\\?\\[c\\]");
    }

    #[test]
    fn published_messages_round_trip() {
        let text = published("me", Op::Expire, "a tag with spaces");
        assert_eq!(
            parse_published(&text),
            Some(("me", Op::Expire, "a tag with spaces"))
        );
        assert_eq!(parse_published("me shred x"), None);
    }
}
