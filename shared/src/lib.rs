//! The demo app's server functions, the types they exchange, and (on the
//! server) the SQLite store they read and write.
//!
//! Every function here is written once: with the `ssr` feature it is the
//! POST handler at `/api/<name>`, in the browser it is a fetch stub.

pub mod likes;
#[cfg(feature = "ssr")]
pub mod store;

pub use likes::{get_likes, increment_like};
