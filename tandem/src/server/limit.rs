//! Guards: checks that run before a server function's body, with the
//! status and message a form shows when they refuse.
//!
//! Name an async function with `guard =` in `#[tandem::server]`: it runs
//! after the arguments decoded and before the body, in the function's own
//! context (cookies, the request), with JavaScript and without. It returns
//! `Ok(())` to let the call through, or a [`Denied`] made by
//! [`deny`](crate::deny): the call answers with its status (`401`, `403`,
//! `429`…) and the form shows its message, and nothing else runs.
//! [`RateLimit`] is one such check.
//!
//! ```no_run
//! use leptos::prelude::*;
//! use std::sync::LazyLock;
//! use std::time::Duration;
//! use tandem::server::limit::RateLimit;
//! use tandem::Denied;
//!
//! static SIGN_UPS: LazyLock<RateLimit> =
//!     LazyLock::new(|| RateLimit::new(10, Duration::from_secs(60)));
//!
//! async fn not_too_often() -> Result<(), Denied> {
//!     SIGN_UPS.check(&tandem::server::limit::client_key())
//! }
//!
//! async fn signed_in() -> Result<(), Denied> {
//!     match tandem::cookies().get("session") {
//!         Some(_) => Ok(()),
//!         None => Err(tandem::deny(http::StatusCode::UNAUTHORIZED, "Sign in first")),
//!     }
//! }
//!
//! #[tandem::server(guard = signed_in)]
//! pub async fn set_status(status: String) -> Result<String, ServerFnError> {
//!     Ok(status)
//! }
//! ```

use super::guard::ConnectionAddrs;
use super::record::{deny, Denied};
use http::StatusCode;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// At most `max` calls per client in any `window` (a sliding window kept
/// in this instance's memory); past it, `429` with a message.
///
/// ```
/// use tandem::server::limit::RateLimit;
/// let limit = RateLimit::new(2, std::time::Duration::from_secs(60));
/// assert!(limit.check("10.0.0.1").is_ok());
/// assert!(limit.check("10.0.0.1").is_ok());
/// assert!(limit.check("10.0.0.1").is_err());
/// assert!(limit.check("10.0.0.2").is_ok());
/// ```
pub struct RateLimit {
    max: usize,
    window: Duration,
    message: String,
    calls: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl RateLimit {
    /// At most `max` calls in `window`, per client.
    ///
    /// ```
    /// let limit = tandem::server::limit::RateLimit::new(10, std::time::Duration::from_secs(60));
    /// ```
    pub fn new(max: usize, window: Duration) -> Self {
        Self {
            max,
            window,
            message: format!(
                "Too many requests: at most {max} in {} s; try again later",
                window.as_secs()
            ),
            calls: Mutex::new(HashMap::new()),
        }
    }

    /// The message a refused call shows.
    ///
    /// ```
    /// let limit = tandem::server::limit::RateLimit::new(1, std::time::Duration::from_secs(60))
    ///     .message("Too many sign-ups; try again in a minute");
    /// ```
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
        self
    }

    /// Counts a call of `client`: `Ok` within the limit, else a `429`
    /// [`Denied`]. A refused call is not counted (memory holds at most
    /// `max` instants per client).
    pub fn check(&self, client: &str) -> Result<(), Denied> {
        let now = Instant::now();
        let mut calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        // Forget clients whose window has passed, now and then.
        if calls.len() > 10_000 {
            calls.retain(|_, times| times.back().is_some_and(|t| now - *t < self.window));
        }
        let times = calls.entry(client.to_string()).or_default();
        while times.front().is_some_and(|t| now - *t >= self.window) {
            times.pop_front();
        }
        if times.len() >= self.max {
            return Err(deny(StatusCode::TOO_MANY_REQUESTS, self.message.clone()));
        }
        times.push_back(now);
        Ok(())
    }
}

/// The calling client, for rate limits: the peer's IP address as the
/// connection came in (Tandem's [`serve`](crate::server::serve())), or
/// `"unknown"`.
pub fn client_key() -> String {
    leptos::prelude::use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<ConnectionAddrs>().copied())
        .map(|addrs| addrs.peer.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}
