//! One module per route of the demo contract.

pub mod home;
pub mod likes;
