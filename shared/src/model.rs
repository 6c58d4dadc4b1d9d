//! The demo's data, as its functions exchange it and its store keeps it.

use serde::{Deserialize, Serialize};
use tandem::Sealed;

/// A stored post.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Post {
    pub id: i64,
    pub title: String,
    pub content: String,
    /// How many likes it has.
    #[serde(default)]
    pub likes: i64,
    /// The post's id sealed for `delete_post` (its delete form posts it
    /// back); `None` straight out of the store.
    #[serde(default)]
    pub delete_token: Option<Sealed>,
}

/// A post with what its page shows around it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostDetail {
    pub post: Post,
    /// The next older post's id, if there is one.
    pub older: Option<i64>,
}

/// A comment on a post.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    pub id: i64,
    pub post_id: i64,
    pub body: String,
    /// `(post_id, id)` sealed for `delete_comment`; `None` straight out of
    /// the store.
    #[serde(default)]
    pub delete_token: Option<Sealed>,
}

/// One line of the guestbook.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuestbookEntry {
    pub id: i64,
    /// Who signed it.
    pub username: String,
    pub message: String,
}
