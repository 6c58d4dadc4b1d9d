//! The demo app's server functions, the types they exchange, and (on the
//! server) the SQLite store they read and write.
//!
//! Every function here is written once: with the `ssr` feature it is the
//! POST handler at `/api/<name>`, in the browser a fetch stub that speaks
//! Tandem's envelope (`client = tandem::TandemClient`).

pub mod comments;
pub mod cookies;
pub mod failures;
pub mod likes;
pub mod model;
pub mod posts;
pub mod refresh;
pub mod signup;
#[cfg(feature = "ssr")]
pub mod store;
pub mod tags;
pub mod views;

pub use cookies::{delete_name_cookie, get_cookie_name, set_name_cookie};
pub use likes::{get_likes, increment_like};
pub use posts::{create_post, create_post_with_state, delete_post, get_posts, Post};
pub use refresh::{bump_counter, get_server_count};
pub use tags::{
    change_price_and_revalidate_tag, change_price_and_update_tag, change_price_silently, get_price,
};
pub use views::{get_views, increment_views};
