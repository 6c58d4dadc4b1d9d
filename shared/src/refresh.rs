//! `/refresh`: a mutation that refreshes the current page.

use leptos::prelude::*;

/// The server counter, read fresh every time (never cached).
#[tandem::query(endpoint = "get_server_count")]
pub async fn get_server_count() -> Result<i64, ServerFnError> {
    let store = crate::store::Store::from_context()?;
    Ok(store.counter("counter").await?)
}

/// Adds one to the server counter and refreshes the page that called it.
#[tandem::server(endpoint = "bump_counter")]
pub async fn bump_counter() -> Result<(), ServerFnError> {
    let store = crate::store::Store::from_context()?;
    store.increment("counter").await?;
    tandem::refresh();
    Ok(())
}
