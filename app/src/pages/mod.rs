//! One module per route of the demo contract.

pub mod cookies;
pub mod errors;
pub mod home;
pub mod likes;
pub mod plain_likes;
pub mod post;
pub mod posts;
pub mod posts_new;
pub mod refresh;
pub mod signup;
pub mod tags;
pub mod views;
