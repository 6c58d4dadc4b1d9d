//! The demo's data, as its functions exchange it and its store keeps it.

use serde::{Deserialize, Serialize};
use tandem::Sealed;

/// A stored post.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Post {
    pub id: i64,
    pub title: String,
    pub content: String,
    /// The post's id sealed for `delete_post` (its delete form posts it
    /// back); `None` straight out of the store.
    #[serde(default)]
    pub delete_token: Option<Sealed>,
}
