//! `/views`: a server function run on mount, inside a transition.

use leptos::prelude::*;

/// Counts one view and returns the new total.
#[tandem::server(endpoint = "increment_views")]
pub async fn increment_views() -> Result<i64, ServerFnError> {
    let store = crate::store::Store::from_context()?;
    Ok(store.increment("views").await?)
}

/// The current total of views.
#[tandem::query(endpoint = "get_views")]
pub async fn get_views() -> Result<i64, ServerFnError> {
    let store = crate::store::Store::from_context()?;
    Ok(store.counter("views").await?)
}
