//! `/errors`: an expected failure, typed and returned as a value, and an
//! unexpected one (a panic), which reaches the app's error boundary with
//! the id the server logged it with.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Why an order can fail, as the page expects it to: a value of the
/// action's state, not an error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum OrderError {
    /// Nothing left to sell.
    #[error("Out of stock")]
    OutOfStock,
    /// More than one may buy at once.
    #[error("At most {0} per order")]
    TooMany(u32),
}

/// Orders the item: always out of stock, an expected failure the page
/// shows where the action's state is.
#[tandem::server(endpoint = "order_item")]
pub async fn order_item() -> Result<Result<String, OrderError>, ServerFnError> {
    Ok(Err(OrderError::OutOfStock))
}

/// Fails unexpectedly: it panics. The caller gets the error id the server
/// logged the panic with, and (in a release build) never its message.
#[tandem::server(endpoint = "explode")]
pub async fn explode() -> Result<(), ServerFnError> {
    panic!("the warehouse database is on fire");
}
