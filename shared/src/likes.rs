//! `/likes`: a server function called from an event handler.

use leptos::prelude::*;

/// Adds one like and returns the new total.
#[tandem::server(endpoint = "increment_like")]
pub async fn increment_like() -> Result<i64, ServerFnError> {
    let store = crate::store::Store::from_context()?;
    Ok(store.increment("likes").await?)
}

/// The current total of likes.
#[tandem::query(endpoint = "get_likes")]
pub async fn get_likes() -> Result<i64, ServerFnError> {
    let store = crate::store::Store::from_context()?;
    Ok(store.counter("likes").await?)
}

/// [`increment_like`] with Leptos's own client: for the plain-Leptos
/// `/likes` the benchmark compares against (`/bench/leptos-likes`).
#[server(endpoint = "plain_increment_like")]
pub async fn plain_increment_like() -> Result<i64, ServerFnError> {
    let store = crate::store::Store::from_context()?;
    Ok(store.increment("likes").await?)
}

/// [`get_likes`] with Leptos's own client, refetched by the plain-Leptos
/// page after each like.
#[server(endpoint = "plain_get_likes")]
pub async fn plain_get_likes() -> Result<i64, ServerFnError> {
    let store = crate::store::Store::from_context()?;
    Ok(store.counter("likes").await?)
}
