//! `/cookies`: cookies set and deleted inside actions.

use leptos::prelude::*;

/// The cookie `name`, as the server sees it.
#[tandem::query(endpoint = "get_cookie_name")]
pub async fn get_cookie_name() -> Result<Option<String>, ServerFnError> {
    Ok(tandem::cookies().get("name").filter(|v| !v.is_empty()))
}

/// Sets `name=Delba`.
#[tandem::server(endpoint = "set_name_cookie")]
pub async fn set_name_cookie() -> Result<(), ServerFnError> {
    tandem::cookies().set("name", "Delba");
    Ok(())
}

/// Deletes the cookie `name`.
#[tandem::server(endpoint = "delete_name_cookie")]
pub async fn delete_name_cookie() -> Result<(), ServerFnError> {
    tandem::cookies().delete("name");
    Ok(())
}
