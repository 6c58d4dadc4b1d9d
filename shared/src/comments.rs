//! `/posts/:id`: a post's comments.

pub use crate::model::Comment;
use leptos::prelude::*;
use tandem::{Bound, Prev};

/// The message for a blank comment.
pub const COMMENT_REQUIRED: &str = "Comment is required";

/// A post's comments, oldest first, read through the cache (tag
/// `comments:{post_id}`).
#[tandem::query(endpoint = "get_comments")]
pub async fn get_comments(post_id: i64) -> Result<Vec<Comment>, ServerFnError> {
    let store = crate::store::Store::from_context()?;
    let tag = format!("comments:{post_id}");
    let mut comments = tandem::cache(&tag, &[&tag], move || {
        let store = store.clone();
        async move { store.comments(post_id).await }
    })
    .await?;
    for comment in &mut comments {
        comment.delete_token = Some(tandem::seal::<DeleteComment, _>(&(
            comment.post_id,
            comment.id,
        ))?);
    }
    Ok(comments)
}

/// Adds a comment to a post. A blank body stores nothing and comes back
/// as the form's state. Only the post's comments are read again.
#[tandem::server(endpoint = "add_comment")]
pub async fn add_comment(
    prev: Prev<Option<String>>,
    post_id: i64,
    body: String,
) -> Result<Option<String>, ServerFnError> {
    let _ = prev;
    let body = body.trim();
    if body.is_empty() {
        return Ok(Some(COMMENT_REQUIRED.to_string()));
    }
    let store = crate::store::Store::from_context()?;
    store
        .add_comment(post_id, body)
        .await?
        .ok_or_else(|| ServerFnError::new(format!("there is no post {post_id}")))?;
    tandem::update_tag(format!("comments:{post_id}"));
    Ok(None)
}

/// Deletes one comment; `(post_id, id)` is bound by the server.
#[tandem::server(endpoint = "delete_comment")]
pub async fn delete_comment(comment: Bound<(i64, i64)>) -> Result<(), ServerFnError> {
    let (post_id, id) = comment.into_inner();
    let store = crate::store::Store::from_context()?;
    store.delete_comment(post_id, id).await?;
    tandem::update_tag(format!("comments:{post_id}"));
    Ok(())
}
