//! The app's store: an embedded SQLite file, so state survives a restart.
//!
//! The path comes from `DATABASE_URL` (`sqlite://path/to/file.db`); by
//! default it is `data/tandem.db` under the working directory. The schema is
//! created on start.
//!
//! Counter increments are group-committed: one writer task takes every
//! increment waiting and applies them in one transaction, so concurrent
//! likes share one disk sync instead of queueing for one each. Each caller
//! gets its own new value once the transaction holding it is committed
//! (SQLite's default `synchronous=FULL` in WAL mode), so an answered
//! increment is on disk.

use crate::model::{Comment, GuestbookEntry, Post, PostDetail};
use leptos::prelude::*;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::SqlitePool;
use std::str::FromStr;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Where the store lives when `DATABASE_URL` is not set.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/tandem.db";

/// Counters the demo keeps, each starting at zero.
const COUNTERS: &[&str] = &["likes", "views", "counter", "price"];

/// What can go wrong with the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// `DATABASE_URL` names another database than SQLite.
    #[error("DATABASE_URL {0:?} is not a SQLite URL (expected sqlite://path/to/file.db)")]
    NotSqlite(String),
    /// `DATABASE_URL` is not a SQLite URL we can open.
    #[error("DATABASE_URL {url:?} is not a valid SQLite URL: {source}")]
    BadUrl {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    /// The folder for the database file could not be created.
    #[error("cannot create the data folder {path:?}: {source}")]
    DataDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A query failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A counter the schema does not have.
    #[error("unknown counter {0:?}")]
    UnknownCounter(String),
    /// The transaction holding this increment failed: nothing was stored.
    #[error("database error: {0}")]
    Commit(String),
    /// The writer task is gone (the runtime is shutting down).
    #[error("the store is shutting down")]
    Closed,
    /// A server function ran without the store in its context.
    #[error("the store is not provided in this request's context")]
    Missing,
}

/// Increments applied in one transaction at most.
const MAX_BATCH: usize = 512;

/// The app's data, shared by every request. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
    increments: mpsc::Sender<Increment>,
}

/// One increment waiting for the writer.
#[derive(Debug)]
struct Increment {
    name: String,
    reply: oneshot::Sender<Result<i64, StoreError>>,
}

/// The writer: every increment waiting, in one transaction each round.
async fn group_commit(pool: SqlitePool, mut queue: mpsc::Receiver<Increment>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        match apply(&pool, &batch).await {
            Ok(values) => {
                for (increment, value) in batch.drain(..).zip(values) {
                    let _ = increment.reply.send(value);
                }
            }
            Err(e) => {
                let message = e.to_string();
                for increment in batch.drain(..) {
                    let _ = increment
                        .reply
                        .send(Err(StoreError::Commit(message.clone())));
                }
            }
        }
    }
}

async fn apply(
    pool: &SqlitePool,
    batch: &[Increment],
) -> Result<Vec<Result<i64, StoreError>>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let mut values = Vec::with_capacity(batch.len());
    for increment in batch {
        let value: Option<i64> = sqlx::query_scalar(
            "UPDATE counters SET value = value + 1 WHERE name = ? RETURNING value",
        )
        .bind(&increment.name)
        .fetch_optional(&mut *tx)
        .await?;
        values.push(value.ok_or_else(|| StoreError::UnknownCounter(increment.name.clone())));
    }
    tx.commit().await?;
    Ok(values)
}

impl Store {
    /// Opens the store named by `DATABASE_URL`, or the default file.
    pub async fn open_from_env() -> Result<Self, StoreError> {
        let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_DATABASE_URL.into());
        Self::open(&url).await
    }

    /// Opens (creating if needed) the SQLite database at `url` and its schema.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        if !url.starts_with("sqlite:") {
            return Err(StoreError::NotSqlite(url.into()));
        }
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|source| StoreError::BadUrl {
                url: url.into(),
                source,
            })?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(10));
        if let Some(dir) = options.get_filename().parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|source| StoreError::DataDir {
                    path: dir.display().to_string(),
                    source,
                })?;
            }
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        let (increments, queue) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(group_commit(pool.clone(), queue));
        let store = Self { pool, increments };
        store.create_schema().await?;
        Ok(store)
    }

    async fn create_schema(&self) -> Result<(), StoreError> {
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS counters (
                name  TEXT PRIMARY KEY,
                value INTEGER NOT NULL DEFAULT 0
            )",
        )
        .execute(&self.pool)
        .await?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS posts (
                id         INTEGER PRIMARY KEY AUTOINCREMENT,
                title      TEXT NOT NULL,
                content    TEXT NOT NULL DEFAULT '',
                created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
            )",
        )
        .execute(&self.pool)
        .await?;
        // Stores made before posts had likes get the column.
        let columns: Vec<String> =
            sqlx::query_scalar("SELECT name FROM pragma_table_info('posts')")
                .fetch_all(&self.pool)
                .await?;
        if !columns.iter().any(|c| c == "likes") {
            sqlx::query("ALTER TABLE posts ADD COLUMN likes INTEGER NOT NULL DEFAULT 0")
                .execute(&self.pool)
                .await?;
        }
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS comments (
                id         INTEGER PRIMARY KEY AUTOINCREMENT,
                post_id    INTEGER NOT NULL,
                body       TEXT NOT NULL,
                created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
            )",
        )
        .execute(&self.pool)
        .await?;
        sqlx::query("CREATE INDEX IF NOT EXISTS comments_by_post ON comments (post_id, id)")
            .execute(&self.pool)
            .await?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS users (
                username      TEXT PRIMARY KEY,
                email         TEXT NOT NULL,
                password_hash TEXT NOT NULL,
                avatar_type   TEXT,
                avatar        BLOB,
                created_at    TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
            )",
        )
        .execute(&self.pool)
        .await?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS guestbook (
                id         INTEGER PRIMARY KEY AUTOINCREMENT,
                username   TEXT NOT NULL,
                message    TEXT NOT NULL,
                created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
            )",
        )
        .execute(&self.pool)
        .await?;
        for name in COUNTERS {
            sqlx::query("INSERT OR IGNORE INTO counters (name, value) VALUES (?, 0)")
                .bind(name)
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// The store provided to this request (see the server's `main`).
    pub fn from_context() -> Result<Self, StoreError> {
        use_context::<Self>().ok_or(StoreError::Missing)
    }

    /// Adds one to a counter, atomically, and returns its new value once it
    /// is committed (group-committed with the other increments waiting).
    pub async fn increment(&self, name: &str) -> Result<i64, StoreError> {
        let (reply, value) = oneshot::channel();
        self.increments
            .send(Increment {
                name: name.to_string(),
                reply,
            })
            .await
            .map_err(|_| StoreError::Closed)?;
        value.await.map_err(|_| StoreError::Closed)?
    }

    /// A counter's current value.
    pub async fn counter(&self, name: &str) -> Result<i64, StoreError> {
        sqlx::query_scalar("SELECT value FROM counters WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::UnknownCounter(name.into()))
    }
}

impl Store {
    /// Every post, newest first.
    pub async fn posts(&self) -> Result<Vec<Post>, StoreError> {
        let rows: Vec<(i64, String, String, i64)> =
            sqlx::query_as("SELECT id, title, content, likes FROM posts ORDER BY id DESC")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(post_of).collect())
    }

    /// One post, and the id of the next older one, if any.
    pub async fn post(&self, id: i64) -> Result<Option<PostDetail>, StoreError> {
        let row: Option<(i64, String, String, i64)> =
            sqlx::query_as("SELECT id, title, content, likes FROM posts WHERE id = ?")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let older: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM posts WHERE id < ?")
            .bind(id)
            .fetch_one(&self.pool)
            .await?;
        Ok(Some(PostDetail {
            post: post_of(row),
            older,
        }))
    }

    /// Stores a post and returns its id.
    pub async fn create_post(&self, title: &str, content: &str) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("INSERT INTO posts (title, content) VALUES (?, ?) RETURNING id")
                .bind(title)
                .bind(content)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Deletes a post and its comments; deleting one that is gone is not
    /// an error.
    pub async fn delete_post(&self, id: i64) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM comments WHERE post_id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM posts WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Adds one like to a post and returns its new count; `None` if the
    /// post is gone.
    pub async fn like_post(&self, id: i64) -> Result<Option<i64>, StoreError> {
        Ok(
            sqlx::query_scalar("UPDATE posts SET likes = likes + 1 WHERE id = ? RETURNING likes")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// A post's comments, oldest first.
    pub async fn comments(&self, post_id: i64) -> Result<Vec<Comment>, StoreError> {
        let rows: Vec<(i64, i64, String)> =
            sqlx::query_as("SELECT id, post_id, body FROM comments WHERE post_id = ? ORDER BY id")
                .bind(post_id)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(id, post_id, body)| Comment {
                id,
                post_id,
                body,
                delete_token: None,
            })
            .collect())
    }

    /// Stores a comment on a post and returns its id; `None` if the post is
    /// gone.
    pub async fn add_comment(&self, post_id: i64, body: &str) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "INSERT INTO comments (post_id, body) SELECT id, ? FROM posts WHERE id = ? RETURNING id",
        )
        .bind(body)
        .bind(post_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Deletes one comment of a post.
    pub async fn delete_comment(&self, post_id: i64, id: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM comments WHERE id = ? AND post_id = ?")
            .bind(id)
            .bind(post_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
    /// Whether a user named `username` exists.
    pub async fn user_exists(&self, username: &str) -> Result<bool, StoreError> {
        let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM users WHERE username = ?")
            .bind(username)
            .fetch_optional(&self.pool)
            .await?;
        Ok(found.is_some())
    }

    /// Stores a new user with their avatar (content type and bytes);
    /// `false` if the name is taken.
    pub async fn create_user(
        &self,
        username: &str,
        email: &str,
        password_hash: &str,
        avatar: Option<(&str, &[u8])>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT OR IGNORE INTO users (username, email, password_hash, avatar_type, avatar)
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(username)
        .bind(email)
        .bind(password_hash)
        .bind(avatar.map(|(t, _)| t))
        .bind(avatar.map(|(_, b)| b))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// How many users there are.
    pub async fn user_count(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await?)
    }

    /// `username`'s avatar: its content type and bytes.
    pub async fn avatar(&self, username: &str) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        let row: Option<(Option<String>, Option<Vec<u8>>)> =
            sqlx::query_as("SELECT avatar_type, avatar FROM users WHERE username = ?")
                .bind(username)
                .fetch_optional(&self.pool)
                .await?;
        Ok(match row {
            Some((Some(content_type), Some(bytes))) => Some((content_type, bytes)),
            _ => None,
        })
    }

    /// The guestbook, oldest first.
    pub async fn guestbook(&self) -> Result<Vec<GuestbookEntry>, StoreError> {
        let rows: Vec<(i64, String, String)> =
            sqlx::query_as("SELECT id, username, message FROM guestbook ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(id, username, message)| GuestbookEntry {
                id,
                username,
                message,
            })
            .collect())
    }

    /// Adds a line to the guestbook.
    pub async fn add_guestbook_entry(
        &self,
        username: &str,
        message: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO guestbook (username, message) VALUES (?, ?)")
            .bind(username)
            .bind(message)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

fn post_of((id, title, content, likes): (i64, String, String, i64)) -> Post {
    Post {
        id,
        title,
        content,
        likes,
        delete_token: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_db(name: &str) -> (std::path::PathBuf, String) {
        let dir = std::env::temp_dir().join(format!("tandem-store-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let url = format!("sqlite://{}/nested/test.db", dir.display());
        (dir, url)
    }

    #[tokio::test]
    async fn counters_start_at_zero_and_survive_a_reopen() {
        let (dir, url) = temp_db("reopen");
        let store = Store::open(&url).await.expect("open");
        assert_eq!(store.counter("likes").await.expect("read"), 0);
        assert_eq!(store.increment("likes").await.expect("inc"), 1);
        assert_eq!(store.increment("likes").await.expect("inc"), 2);
        store.pool.close().await;
        let reopened = Store::open(&url).await.expect("reopen");
        assert_eq!(reopened.counter("likes").await.expect("read"), 2);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_increments_lose_nothing() {
        let (dir, url) = temp_db("concurrent");
        let store = Store::open(&url).await.expect("open");
        let tasks: Vec<_> = (0..100)
            .map(|_| {
                let s = store.clone();
                tokio::spawn(async move { s.increment("likes").await })
            })
            .collect();
        let mut values = Vec::new();
        for t in tasks {
            values.push(t.await.expect("join").expect("increment"));
        }
        // Group-committed, yet each caller got its own new value.
        values.sort();
        assert_eq!(values, (1..=100).collect::<Vec<i64>>());
        assert_eq!(store.counter("likes").await.expect("read"), 100);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn posts_are_listed_newest_first_and_deleted_by_id() {
        let (dir, url) = temp_db("posts");
        let store = Store::open(&url).await.expect("open");
        let a = store.create_post("first", "").await.expect("create");
        let b = store.create_post("second", "body").await.expect("create");
        let titles: Vec<String> = store
            .posts()
            .await
            .expect("list")
            .into_iter()
            .map(|p| p.title)
            .collect();
        assert_eq!(titles, ["second", "first"]);
        store.delete_post(b).await.expect("delete");
        let left = store.posts().await.expect("list");
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].id, a);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn users_are_unique_and_keep_their_avatar() {
        let (dir, url) = temp_db("users");
        let store = Store::open(&url).await.expect("open");
        let png = b"\x89PNG\r\n\x1a\nrest".to_vec();
        assert!(store
            .create_user("ann", "a@x", "hash", Some(("image/png", &png)))
            .await
            .expect("create"));
        assert!(!store
            .create_user("ann", "b@x", "hash", None)
            .await
            .expect("create"));
        assert!(store
            .create_user("bob", "b@x", "hash", None)
            .await
            .expect("create"));
        assert_eq!(store.user_count().await.expect("count"), 2);
        assert!(store.user_exists("ann").await.expect("exists"));
        assert!(!store.user_exists("cat").await.expect("exists"));
        assert_eq!(
            store.avatar("ann").await.expect("avatar"),
            Some(("image/png".to_string(), png))
        );
        assert_eq!(store.avatar("bob").await.expect("avatar"), None);
        store.add_guestbook_entry("bob", "hi").await.expect("sign");
        let entries = store.guestbook().await.expect("guestbook");
        assert_eq!(entries.len(), 1);
        assert_eq!(
            (entries[0].username.as_str(), entries[0].message.as_str()),
            ("bob", "hi")
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn posts_have_likes_comments_and_an_older_neighbour() {
        let (dir, url) = temp_db("comments");
        let store = Store::open(&url).await.expect("open");
        let a = store.create_post("first", "").await.expect("create");
        let b = store.create_post("second", "").await.expect("create");
        assert_eq!(store.like_post(a).await.expect("like"), Some(1));
        assert_eq!(store.like_post(a).await.expect("like"), Some(2));
        assert_eq!(store.like_post(999).await.expect("like"), None);
        let detail = store.post(b).await.expect("read").expect("b");
        assert_eq!((detail.post.likes, detail.older), (0, Some(a)));
        assert_eq!(store.post(a).await.expect("read").expect("a").older, None);
        let c1 = store
            .add_comment(b, "one")
            .await
            .expect("add")
            .expect("b exists");
        store.add_comment(b, "two").await.expect("add");
        assert_eq!(store.add_comment(999, "x").await.expect("add"), None);
        let bodies: Vec<String> = store
            .comments(b)
            .await
            .expect("list")
            .into_iter()
            .map(|c| c.body)
            .collect();
        assert_eq!(bodies, ["one", "two"]);
        store.delete_comment(a, c1).await.expect("delete"); // not a's: stays
        assert_eq!(store.comments(b).await.expect("list").len(), 2);
        store.delete_comment(b, c1).await.expect("delete");
        assert_eq!(store.comments(b).await.expect("list").len(), 1);
        store.delete_post(b).await.expect("delete");
        assert!(store.post(b).await.expect("read").is_none());
        assert!(store.comments(b).await.expect("list").is_empty());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn an_unknown_counter_in_a_batch_fails_alone() {
        let (dir, url) = temp_db("batch-unknown");
        let store = Store::open(&url).await.expect("open");
        let (a, b, c) = tokio::join!(
            store.increment("likes"),
            store.increment("nope"),
            store.increment("likes")
        );
        assert!(matches!(b, Err(StoreError::UnknownCounter(_))));
        let mut ok = vec![a.expect("a"), c.expect("c")];
        ok.sort();
        assert_eq!(ok, vec![1, 2]);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn unknown_counter_is_an_error() {
        let (dir, url) = temp_db("unknown");
        let store = Store::open(&url).await.expect("open");
        assert!(matches!(
            store.increment("nope").await,
            Err(StoreError::UnknownCounter(_))
        ));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn bad_url_is_reported() {
        assert!(matches!(
            Store::open("postgres://nope").await,
            Err(StoreError::NotSqlite(_))
        ));
    }
}
