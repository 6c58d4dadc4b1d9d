//! Effects a server function records while it runs: `redirect`, `refresh`,
//! `revalidate_path`, `revalidate_tag`, `update_tag` and `cookies()`.
//!
//! They are the Next.js functions of the same names. Each writes into the
//! request's [`EffectsRecord`], which Tandem's server handler provides to
//! every server function call and turns into the response: an
//! [`Envelope`](crate::flight::Envelope) for Tandem's client, `Set-Cookie`
//! headers, a `303 See Other` for a form posted without JavaScript.
//!
//! ```no_run
//! use leptos::prelude::*;
//!
//! #[server(endpoint = "create_post")]
//! pub async fn create_post(title: String) -> Result<(), ServerFnError> {
//!     if title.trim().is_empty() {
//!         return Err(ServerFnError::new("Title is required"));
//!     }
//!     // … store the post …
//!     tandem::revalidate_path("/posts");
//!     Err(tandem::redirect("/posts"))? // ends the function here
//! }
//! ```

use crate::flight::Effects;
use leptos::prelude::*;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// What one request's server function recorded. Provided in the Leptos
/// context by Tandem's handler; cheap to clone.
///
/// ```
/// let record = tandem::EffectsRecord::new("name=Delba; theme=dark");
/// assert_eq!(record.cookie("name").as_deref(), Some("Delba"));
/// ```
#[derive(Clone, Debug, Default)]
pub struct EffectsRecord {
    inner: Arc<Mutex<Recorded>>,
}

#[derive(Debug, Default)]
struct Recorded {
    effects: Effects,
    /// Cookies the request came with.
    request_cookies: BTreeMap<String, String>,
    /// Changes, in order: `Some(value)` set, `None` deleted.
    cookie_changes: BTreeMap<String, Option<CookieOptions>>,
}

/// A cookie set by [`Cookies::set_with`]: its value and attributes.
///
/// ```
/// let c = tandem::CookieOptions::new("Delba").max_age(3600).http_only(false);
/// assert!(c.to_header("name").contains("Max-Age=3600"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CookieOptions {
    value: String,
    path: String,
    max_age: Option<i64>,
    http_only: bool,
    secure: bool,
    same_site: &'static str,
}

impl CookieOptions {
    /// A cookie for the whole site (`Path=/`), `HttpOnly`, `SameSite=Lax`,
    /// lasting for the browser session.
    ///
    /// ```
    /// let c = tandem::CookieOptions::new("v");
    /// assert_eq!(c.to_header("k"), "k=v; Path=/; HttpOnly; SameSite=Lax");
    /// ```
    pub fn new(value: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            path: "/".into(),
            max_age: None,
            http_only: true,
            secure: false,
            same_site: "Lax",
        }
    }

    /// Sets `Path`.
    ///
    /// ```
    /// let c = tandem::CookieOptions::new("v").path("/app");
    /// assert!(c.to_header("k").contains("Path=/app"));
    /// ```
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// Sets `Max-Age` in seconds.
    ///
    /// ```
    /// let c = tandem::CookieOptions::new("v").max_age(60);
    /// assert!(c.to_header("k").contains("Max-Age=60"));
    /// ```
    pub fn max_age(mut self, seconds: i64) -> Self {
        self.max_age = Some(seconds);
        self
    }

    /// Whether scripts are kept from reading it (default: yes).
    ///
    /// ```
    /// let c = tandem::CookieOptions::new("v").http_only(false);
    /// assert!(!c.to_header("k").contains("HttpOnly"));
    /// ```
    pub fn http_only(mut self, on: bool) -> Self {
        self.http_only = on;
        self
    }

    /// Whether it is sent over HTTPS only.
    ///
    /// ```
    /// let c = tandem::CookieOptions::new("v").secure(true);
    /// assert!(c.to_header("k").contains("Secure"));
    /// ```
    pub fn secure(mut self, on: bool) -> Self {
        self.secure = on;
        self
    }

    /// The `Set-Cookie` header value for a cookie called `name`.
    ///
    /// ```
    /// let c = tandem::CookieOptions::new("a b");
    /// assert!(c.to_header("k").starts_with("k=a%20b;"));
    /// ```
    pub fn to_header(&self, name: &str) -> String {
        let mut h = format!(
            "{name}={}; Path={}",
            encode_cookie_value(&self.value),
            self.path
        );
        if let Some(age) = self.max_age {
            h.push_str(&format!("; Max-Age={age}"));
        }
        if self.http_only {
            h.push_str("; HttpOnly");
        }
        if self.secure {
            h.push_str("; Secure");
        }
        h.push_str("; SameSite=");
        h.push_str(self.same_site);
        h
    }
}

/// Percent-encodes what RFC 6265 does not allow in a cookie value.
fn encode_cookie_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        let allowed =
            matches!(b, 0x21 | 0x23..=0x2B | 0x2D..=0x3A | 0x3C..=0x5B | 0x5D..=0x7E) && b != b'%';
        if allowed {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn decode_cookie_value(value: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(hi << 4 | lo);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses a `Cookie:` request header into name → value.
pub(crate) fn parse_cookie_header(header: &str) -> BTreeMap<String, String> {
    header
        .split(';')
        .filter_map(|pair| {
            let (name, value) = pair.split_once('=')?;
            let name = name.trim();
            (!name.is_empty()).then(|| {
                (
                    name.to_string(),
                    decode_cookie_value(value.trim().trim_matches('"')),
                )
            })
        })
        .collect()
}

impl EffectsRecord {
    /// A record for a request that came with this `Cookie` header.
    ///
    /// ```
    /// let r = tandem::EffectsRecord::new("");
    /// assert!(r.effects().is_empty());
    /// ```
    pub fn new(cookie_header: &str) -> Self {
        let record = Self::default();
        record.lock().request_cookies = parse_cookie_header(cookie_header);
        record
    }

    fn lock(&self) -> MutexGuard<'_, Recorded> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The effects recorded so far.
    ///
    /// ```
    /// let r = tandem::EffectsRecord::new("");
    /// r.with(|fx| fx.refresh = true);
    /// assert!(r.effects().refresh);
    /// ```
    pub fn effects(&self) -> Effects {
        self.lock().effects.clone()
    }

    /// Changes the recorded effects.
    ///
    /// ```
    /// let r = tandem::EffectsRecord::new("");
    /// r.with(|fx| fx.revalidated_tags.push("price".into()));
    /// assert_eq!(r.effects().revalidated_tags, ["price"]);
    /// ```
    pub fn with<T>(&self, f: impl FnOnce(&mut Effects) -> T) -> T {
        f(&mut self.lock().effects)
    }

    /// A cookie's value as this request sees it: what it came with, updated
    /// by the changes made so far.
    ///
    /// ```
    /// let r = tandem::EffectsRecord::new("name=Ann");
    /// r.set_cookie("name", tandem::CookieOptions::new("Bob"));
    /// assert_eq!(r.cookie("name").as_deref(), Some("Bob"));
    /// r.delete_cookie("name");
    /// assert_eq!(r.cookie("name"), None);
    /// ```
    pub fn cookie(&self, name: &str) -> Option<String> {
        let recorded = self.lock();
        match recorded.cookie_changes.get(name) {
            Some(change) => change.as_ref().map(|c| c.value.clone()),
            None => recorded.request_cookies.get(name).cloned(),
        }
    }

    /// Records a cookie to set.
    ///
    /// ```
    /// let r = tandem::EffectsRecord::new("");
    /// r.set_cookie("name", tandem::CookieOptions::new("Delba"));
    /// assert!(r.effects().cookies_changed);
    /// ```
    pub fn set_cookie(&self, name: &str, cookie: CookieOptions) {
        let mut recorded = self.lock();
        recorded
            .cookie_changes
            .insert(name.to_string(), Some(cookie));
        recorded.effects.cookies_changed = true;
    }

    /// Records a cookie to delete.
    ///
    /// ```
    /// let r = tandem::EffectsRecord::new("name=Delba");
    /// r.delete_cookie("name");
    /// assert_eq!(r.set_cookie_headers(), ["name=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"]);
    /// ```
    pub fn delete_cookie(&self, name: &str) {
        let mut recorded = self.lock();
        recorded.cookie_changes.insert(name.to_string(), None);
        recorded.effects.cookies_changed = true;
    }

    /// The `Set-Cookie` header values for the changes.
    ///
    /// ```
    /// let r = tandem::EffectsRecord::new("");
    /// r.set_cookie("name", tandem::CookieOptions::new("Delba"));
    /// assert_eq!(r.set_cookie_headers(), ["name=Delba; Path=/; HttpOnly; SameSite=Lax"]);
    /// ```
    pub fn set_cookie_headers(&self) -> Vec<String> {
        self.lock()
            .cookie_changes
            .iter()
            .map(|(name, change)| match change {
                Some(cookie) => cookie.to_header(name),
                None => CookieOptions::new("").max_age(0).to_header(name),
            })
            .collect()
    }

    /// A `Cookie` request header with the changes applied: what a page
    /// rendered after this action should see.
    ///
    /// ```
    /// let r = tandem::EffectsRecord::new("a=1; name=Ann");
    /// r.delete_cookie("name");
    /// r.set_cookie("b", tandem::CookieOptions::new("2"));
    /// assert_eq!(r.cookie_header(), "a=1; b=2");
    /// ```
    pub fn cookie_header(&self) -> String {
        let recorded = self.lock();
        let mut cookies = recorded.request_cookies.clone();
        for (name, change) in &recorded.cookie_changes {
            match change {
                Some(c) => {
                    cookies.insert(name.clone(), c.value.clone());
                }
                None => {
                    cookies.remove(name);
                }
            }
        }
        cookies
            .iter()
            .map(|(k, v)| format!("{k}={}", encode_cookie_value(v)))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// The record of the current request, if Tandem's handler provided one.
fn record() -> Option<EffectsRecord> {
    use_context::<EffectsRecord>()
}

fn record_or_warn(what: &str) -> Option<EffectsRecord> {
    let r = record();
    if r.is_none() {
        leptos::logging::warn!(
            "tandem::{what} called outside a server function run by Tandem's handler; ignored"
        );
    }
    r
}

/// The error a server function returns to end with a redirect: made by
/// [`redirect`]. It converts into `ServerFnError` (and any error type with a
/// `From<std::error::Error>` conversion), so `?` and `return Err(…)` work.
///
/// ```
/// let r = tandem::Redirect { to: "/posts".into() };
/// assert_eq!(r.to_string(), "redirect to /posts");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("redirect to {to}")]
pub struct Redirect {
    /// Where to go.
    pub to: String,
}

/// Ends the server function with a redirect to `to`: soft navigation when
/// the page has JavaScript, `303 See Other` for a form posted without.
/// Record it, then return the value as the error: `Err(redirect("/"))?`.
///
/// ```no_run
/// use leptos::prelude::*;
/// #[server(endpoint = "go_home")]
/// pub async fn go_home() -> Result<(), ServerFnError> {
///     Err(tandem::redirect("/"))?
/// }
/// ```
pub fn redirect(to: impl Into<String>) -> Redirect {
    let to = to.into();
    if let Some(r) = record_or_warn("redirect") {
        r.with(|fx| fx.redirect = Some(to.clone()));
    }
    Redirect { to }
}

/// Asks the browser to read the current page's server data again (client
/// state is kept), without touching any cache.
///
/// ```no_run
/// use leptos::prelude::*;
/// #[server(endpoint = "bump")]
/// pub async fn bump() -> Result<(), ServerFnError> {
///     tandem::refresh();
///     Ok(())
/// }
/// ```
pub fn refresh() {
    if let Some(r) = record_or_warn("refresh") {
        r.with(|fx| fx.refresh = true);
    }
}

/// Invalidates what was read for `path`; pages showing it read it again.
///
/// ```no_run
/// use leptos::prelude::*;
/// #[server(endpoint = "delete_post")]
/// pub async fn delete_post(id: i64) -> Result<(), ServerFnError> {
///     tandem::revalidate_path("/posts");
///     Ok(())
/// }
/// ```
pub fn revalidate_path(path: impl Into<String>) {
    let path = path.into();
    if let Some(r) = record_or_warn("revalidate_path") {
        r.with(|fx| push_unique(&mut fx.revalidated_paths, path));
    }
}

/// Marks the data cached under `tag` stale.
///
/// ```no_run
/// use leptos::prelude::*;
/// #[server(endpoint = "touch_price")]
/// pub async fn touch_price() -> Result<(), ServerFnError> {
///     tandem::revalidate_tag("price");
///     Ok(())
/// }
/// ```
pub fn revalidate_tag(tag: impl Into<String>) {
    let tag = tag.into();
    if let Some(r) = record_or_warn("revalidate_tag") {
        r.with(|fx| push_unique(&mut fx.revalidated_tags, tag));
    }
}

/// Expires the data cached under `tag` at once: the next read is fresh
/// (read your own writes).
///
/// ```no_run
/// use leptos::prelude::*;
/// #[server(endpoint = "set_price")]
/// pub async fn set_price() -> Result<(), ServerFnError> {
///     tandem::update_tag("price");
///     Ok(())
/// }
/// ```
pub fn update_tag(tag: impl Into<String>) {
    let tag = tag.into();
    if let Some(r) = record_or_warn("update_tag") {
        r.with(|fx| push_unique(&mut fx.updated_tags, tag));
    }
}

fn push_unique(list: &mut Vec<String>, item: String) {
    if !list.contains(&item) {
        list.push(item);
    }
}

/// The request's cookies, as in Next.js's `cookies()`: read them in a
/// server function or while rendering on the server; set or delete them in
/// a server function.
///
/// ```no_run
/// use leptos::prelude::*;
/// #[server(endpoint = "remember")]
/// pub async fn remember() -> Result<Option<String>, ServerFnError> {
///     let jar = tandem::cookies();
///     jar.set("name", "Delba");
///     Ok(jar.get("name"))
/// }
/// ```
pub fn cookies() -> Cookies {
    Cookies { record: record() }
}

/// Handle returned by [`cookies`].
///
/// ```no_run
/// let name = tandem::cookies().get("name");
/// ```
#[derive(Clone, Debug)]
pub struct Cookies {
    record: Option<EffectsRecord>,
}

impl Cookies {
    /// The cookie's value, seeing changes made earlier in this request.
    ///
    /// ```no_run
    /// let theme = tandem::cookies().get("theme").unwrap_or_else(|| "light".into());
    /// ```
    pub fn get(&self, name: &str) -> Option<String> {
        if let Some(r) = &self.record {
            return r.cookie(name);
        }
        // Rendering a page: read the request leptos_axum provided.
        let parts = use_context::<http::request::Parts>()?;
        let header = parts.headers.get(http::header::COOKIE)?.to_str().ok()?;
        parse_cookie_header(header).remove(name)
    }

    /// Sets a cookie for the whole site (`Path=/; HttpOnly; SameSite=Lax`).
    ///
    /// ```no_run
    /// tandem::cookies().set("name", "Delba");
    /// ```
    pub fn set(&self, name: &str, value: impl Into<String>) {
        self.set_with(name, CookieOptions::new(value));
    }

    /// Sets a cookie with its attributes.
    ///
    /// ```no_run
    /// tandem::cookies().set_with("name", tandem::CookieOptions::new("Delba").max_age(3600));
    /// ```
    pub fn set_with(&self, name: &str, cookie: CookieOptions) {
        match &self.record {
            Some(r) => r.set_cookie(name, cookie),
            None => leptos::logging::warn!(
                "tandem::cookies().set({name:?}) outside a server function run by Tandem; ignored"
            ),
        }
    }

    /// Deletes a cookie.
    ///
    /// ```no_run
    /// tandem::cookies().delete("name");
    /// ```
    pub fn delete(&self, name: &str) {
        match &self.record {
            Some(r) => r.delete_cookie(name),
            None => leptos::logging::warn!(
                "tandem::cookies().delete({name:?}) outside a server function run by Tandem; ignored"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_values_round_trip_through_encoding() {
        for v in ["Delba", "a b", "x;y=z", "ünï", "100%"] {
            let header = CookieOptions::new(v).to_header("k");
            let pair = header.split(';').next().unwrap();
            assert_eq!(
                parse_cookie_header(pair).get("k").map(String::as_str),
                Some(v)
            );
        }
    }

    #[test]
    fn effects_outside_a_request_are_ignored_not_panicking() {
        let owner = Owner::new();
        owner.with(|| {
            let r = redirect("/x");
            assert_eq!(r.to, "/x");
            refresh();
            assert_eq!(cookies().get("name"), None);
        });
    }

    #[test]
    fn effects_inside_a_request_are_recorded() {
        let owner = Owner::new();
        let record = EffectsRecord::new("name=Ann");
        owner.with(|| {
            provide_context(record.clone());
            revalidate_path("/posts");
            revalidate_path("/posts");
            update_tag("price");
            let _ = redirect("/posts");
            cookies().delete("name");
            assert_eq!(cookies().get("name"), None);
        });
        let fx = record.effects();
        assert_eq!(fx.revalidated_paths, ["/posts"]);
        assert_eq!(fx.updated_tags, ["price"]);
        assert_eq!(fx.redirect.as_deref(), Some("/posts"));
        assert!(fx.cookies_changed);
    }
}
