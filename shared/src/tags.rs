//! `/tags`: a value read through the tagged data cache under `price`.

use leptos::prelude::*;

/// The price, read through the cache under the tag `price`.
#[tandem::query(endpoint = "get_price")]
pub async fn get_price() -> Result<i64, ServerFnError> {
    let store = crate::store::Store::from_context()?;
    Ok(tandem::cache("price", &["price"], move || {
        let store = store.clone();
        async move { store.counter("price").await }
    })
    .await?)
}

/// Changes the stored price without touching the cache: pages keep showing
/// the cached value.
#[tandem::server(endpoint = "change_price_silently")]
pub async fn change_price_silently() -> Result<(), ServerFnError> {
    let store = crate::store::Store::from_context()?;
    store.increment("price").await?;
    Ok(())
}

/// Changes the stored price and expires the tag `price` at once: the next
/// read (in this same response) is fresh.
#[tandem::server(endpoint = "change_price_and_update_tag")]
pub async fn change_price_and_update_tag() -> Result<(), ServerFnError> {
    let store = crate::store::Store::from_context()?;
    store.increment("price").await?;
    tandem::update_tag("price");
    Ok(())
}

/// Changes the stored price and marks the tag `price` stale: the next read
/// still gets the old value while the cache refreshes in the background.
#[tandem::server(endpoint = "change_price_and_revalidate_tag")]
pub async fn change_price_and_revalidate_tag() -> Result<(), ServerFnError> {
    let store = crate::store::Store::from_context()?;
    store.increment("price").await?;
    tandem::revalidate_tag("price");
    Ok(())
}
