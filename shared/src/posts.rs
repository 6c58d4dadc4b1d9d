//! `/posts` and `/posts/new`: forms, action state, revalidation, redirect.

pub use crate::model::{Post, PostDetail};
use leptos::prelude::*;
use tandem::{Bound, Prev};

/// The message for a blank title.
pub const TITLE_REQUIRED: &str = "Title is required";

/// Every post, newest first, read through the cache (tag `posts`).
#[tandem::query(endpoint = "get_posts")]
pub async fn get_posts() -> Result<Vec<Post>, ServerFnError> {
    let store = crate::store::Store::from_context()?;
    let mut posts = tandem::cache("posts", &["posts"], move || {
        let store = store.clone();
        async move { store.posts().await }
    })
    .await?;
    for post in &mut posts {
        post.delete_token = Some(tandem::seal::<DeletePost, _>(&post.id)?);
    }
    Ok(posts)
}

/// One post and its older neighbour, `None` if there is no such post; read
/// through the cache (tags `posts` and `post:{id}`).
#[tandem::query(endpoint = "get_post")]
pub async fn get_post(id: i64) -> Result<Option<PostDetail>, ServerFnError> {
    let store = crate::store::Store::from_context()?;
    let mut detail = tandem::cache(&format!("post:{id}"), &["posts", &format!("post:{id}")], {
        move || {
            let store = store.clone();
            async move { store.post(id).await }
        }
    })
    .await?;
    if let Some(detail) = &mut detail {
        detail.post.delete_token = Some(tandem::seal::<DeleteThisPost, _>(&id)?);
    }
    Ok(detail)
}

/// What every change to the posts invalidates: the `/posts` page, every
/// post's page, and anything else that read them.
#[cfg(feature = "ssr")]
fn posts_changed() {
    tandem::revalidate_path("/posts");
    tandem::revalidate_path("/posts/[id]");
    tandem::update_tag("posts");
}

/// `/posts` and `/posts/:id`: one more like for a post; returns its count.
/// It revalidates the pages that show likes, and nothing else: the lists
/// read through the cache are fresh only because `revalidate_path` reaches
/// every page that read them.
#[tandem::server(endpoint = "like_post")]
pub async fn like_post(post: i64) -> Result<i64, ServerFnError> {
    let store = crate::store::Store::from_context()?;
    let likes = store
        .like_post(post)
        .await?
        .ok_or_else(|| ServerFnError::new(format!("there is no post {post}")))?;
    tandem::revalidate_path("/posts");
    tandem::revalidate_path("/posts/[id]");
    Ok(likes)
}

/// `/posts/:id`: deletes the post shown, then redirects to `/posts`. Its id
/// is bound by the server.
#[tandem::server(endpoint = "delete_this_post")]
pub async fn delete_this_post(id: Bound<i64>) -> Result<(), ServerFnError> {
    let store = crate::store::Store::from_context()?;
    let id = id.into_inner();
    store.delete_post(id).await?;
    posts_changed();
    tandem::update_tag(format!("comments:{id}"));
    Err(tandem::redirect("/posts").into())
}

/// `/posts`: stores a post, revalidates `/posts` and redirects there. A
/// blank title stores nothing and comes back as the form's state.
#[tandem::server(endpoint = "create_post")]
pub async fn create_post(
    prev: Prev<Option<String>>,
    title: String,
    content: String,
) -> Result<Option<String>, ServerFnError> {
    let _ = prev;
    let title = title.trim();
    if title.is_empty() {
        return Ok(Some(TITLE_REQUIRED.to_string()));
    }
    let store = crate::store::Store::from_context()?;
    store.create_post(title, &content).await?;
    posts_changed();
    Err(tandem::redirect("/posts").into())
}

/// `/posts`: deletes a post. Its id is bound by the server (sealed into
/// the form), so a page cannot delete a post it was not shown.
#[tandem::server(endpoint = "delete_post")]
pub async fn delete_post(id: Bound<i64>) -> Result<(), ServerFnError> {
    let store = crate::store::Store::from_context()?;
    store.delete_post(id.into_inner()).await?;
    posts_changed();
    Ok(())
}

/// `/posts/new`: the action-state version, `(previous state, form) → state`.
#[tandem::server(endpoint = "create_post_with_state")]
pub async fn create_post_with_state(
    prev: Prev<String>,
    title: String,
    content: String,
) -> Result<String, ServerFnError> {
    let _ = prev;
    let title = title.trim();
    if title.is_empty() {
        return Ok(TITLE_REQUIRED.to_string());
    }
    let store = crate::store::Store::from_context()?;
    let id = store.create_post(title, &content).await?;
    posts_changed();
    Ok(format!("Created post {id}"))
}
