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
//! #[tandem::server(endpoint = "create_post")]
//! pub async fn create_post(title: String) -> Result<(), ServerFnError> {
//!     if title.trim().is_empty() {
//!         return Err(ServerFnError::new("Title is required"));
//!     }
//!     // … store the post …
//!     tandem::revalidate_path("/posts");
//!     Err(tandem::redirect("/posts"))? // ends the function here
//! }
//! ```

use super::cookies::{encode_cookie_value, parse_cookie_header, CookieOptions};
use crate::wire::{Effects, Issues};
use http::StatusCode;
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
    /// The status a refusal (`invalid`, `deny`) answers with.
    refused: Option<StatusCode>,
    /// Text fields a multipart form sent (for the page after a post
    /// without JavaScript).
    submitted: Vec<(String, String)>,
    /// Cookies the request came with.
    request_cookies: BTreeMap<String, String>,
    /// Changes, in order: `Some(value)` set, `None` deleted.
    cookie_changes: BTreeMap<String, Option<CookieOptions>>,
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
    /// r.set_cookie("name", tandem::CookieOptions::new("Delba"));
    /// assert!(r.effects().cookies_changed);
    /// ```
    pub fn effects(&self) -> Effects {
        self.lock().effects.clone()
    }

    /// Changes the recorded effects (what `redirect`, `refresh`,
    /// `revalidate_*` and `update_tag` do).
    pub(crate) fn with<T>(&self, f: impl FnOnce(&mut Effects) -> T) -> T {
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

impl EffectsRecord {
    /// The status of the refusal recorded, if the function refused.
    pub(crate) fn refused(&self) -> Option<StatusCode> {
        self.lock().refused
    }

    /// The text fields a multipart form sent, as noted while it was read.
    pub(crate) fn submitted(&self) -> Vec<(String, String)> {
        self.lock().submitted.clone()
    }

    /// Records a refusal: its status and issues (added to any recorded
    /// before).
    fn refuse(&self, status: StatusCode, issues: Issues) {
        let mut recorded = self.lock();
        recorded.refused = Some(status);
        let all = recorded.effects.issues.get_or_insert_with(Issues::new);
        for issue in issues.iter() {
            all.push(issue.clone());
        }
    }
}

/// Notes the text fields a multipart form sent, for the page rendered
/// after a post without JavaScript (sensitive fields are left out there).
pub(crate) fn note_submitted(fields: &[(String, String)]) {
    if let Some(r) = record() {
        r.lock().submitted = fields.to_vec();
    }
}

/// The error a server function returns when it refuses what a form sent,
/// field by field: made by [`invalid`]. It converts into `ServerFnError`
/// (and any error type with a `From<std::error::Error>` conversion).
///
/// ```
/// let e = tandem::Invalid { issues: tandem::Issues::new().field("email", "Email must contain @") };
/// assert_eq!(e.to_string(), "the form was refused: email: Email must contain @");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the form was refused: {issues}")]
pub struct Invalid {
    /// What was wrong.
    pub issues: Issues,
}

/// Refuses what a form sent, with `issues` for its fields (`422
/// Unprocessable Content`): the form shows each beside its field, with
/// JavaScript and without, and keeps what was typed (sensitive fields
/// excepted). Return it as the error: `Err(invalid(issues))?`.
///
/// ```no_run
/// use leptos::prelude::*;
/// #[tandem::server(endpoint = "subscribe")]
/// pub async fn subscribe(email: String) -> Result<(), ServerFnError> {
///     if !email.contains('@') {
///         Err(tandem::invalid(tandem::Issues::new().field("email", "Email must contain @")))?;
///     }
///     Ok(())
/// }
/// ```
pub fn invalid(issues: Issues) -> Invalid {
    if let Some(r) = record_or_warn("invalid") {
        r.refuse(StatusCode::UNPROCESSABLE_ENTITY, issues.clone());
    }
    Invalid { issues }
}

/// What a guard returns to refuse a call: made by [`deny`]. It converts
/// into `ServerFnError` (and any error type with a
/// `From<std::error::Error>` conversion).
///
/// ```
/// let d = tandem::Denied { status: http::StatusCode::UNAUTHORIZED, message: "Sign in first".into() };
/// assert_eq!(d.to_string(), "Sign in first");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Denied {
    /// The status the call answers with (`401`, `403`, `429`…).
    pub status: StatusCode,
    /// What the form shows.
    pub message: String,
}

/// Refuses a call with `status` (`401`, `403`, `429`…) and a message the
/// form shows (an issue of the form as a whole): what a guard returns (see
/// [`limit`](crate::server::limit)), or a function itself.
///
/// ```no_run
/// async fn signed_in() -> Result<(), tandem::Denied> {
///     match tandem::cookies().get("session") {
///         Some(_) => Ok(()),
///         None => Err(tandem::deny(http::StatusCode::UNAUTHORIZED, "Sign in first")),
///     }
/// }
/// ```
pub fn deny(status: StatusCode, message: impl Into<String>) -> Denied {
    let message = message.into();
    if let Some(r) = record_or_warn("deny") {
        r.refuse(status, Issues::new().form(message.clone()));
    }
    Denied { status, message }
}

/// The record of the current request, if Tandem's handler provided one.
fn record() -> Option<EffectsRecord> {
    use_context::<EffectsRecord>()
}

fn record_or_warn(what: &str) -> Option<EffectsRecord> {
    let r = record();
    if r.is_none() {
        tracing::warn!(
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
/// #[tandem::server(endpoint = "go_home")]
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
/// #[tandem::server(endpoint = "bump")]
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

/// Invalidates what the page at `path` read (Next.js's
/// `revalidatePath(path)`): the next render of it reads fresh, and an
/// action's response carries the fresh data when the browser is on it. A
/// `[param]` segment matches any one segment: `revalidate_path("/posts/[id]")`
/// reaches every post's page.
///
/// ```no_run
/// use leptos::prelude::*;
/// #[tandem::server(endpoint = "delete_post")]
/// pub async fn delete_post(id: i64) -> Result<(), ServerFnError> {
///     tandem::revalidate_path("/posts");
///     tandem::revalidate_path("/posts/[id]");
///     Ok(())
/// }
/// ```
pub fn revalidate_path(path: impl Into<String>) {
    let path = path.into();
    if let Some(r) = record_or_warn("revalidate_path") {
        r.with(|fx| push_unique(&mut fx.revalidated_paths, path));
    }
}

/// Invalidates what every page at or under `path` read (Next.js's
/// `revalidatePath(path, "layout")`).
///
/// ```no_run
/// use leptos::prelude::*;
/// #[tandem::server(endpoint = "rename_blog")]
/// pub async fn rename_blog() -> Result<(), ServerFnError> {
///     tandem::revalidate_layout("/posts"); // /posts, /posts/1, /posts/1/edit…
///     Ok(())
/// }
/// ```
pub fn revalidate_layout(path: impl Into<String>) {
    let path = path.into();
    if let Some(r) = record_or_warn("revalidate_layout") {
        r.with(|fx| push_unique(&mut fx.revalidated_layouts, path));
    }
}

/// Marks the data cached under `tag` stale.
///
/// ```no_run
/// use leptos::prelude::*;
/// #[tandem::server(endpoint = "touch_price")]
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
/// #[tandem::server(endpoint = "set_price")]
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
/// #[tandem::server(endpoint = "remember")]
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
            None => tracing::warn!(
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
            None => tracing::warn!(
                "tandem::cookies().delete({name:?}) outside a server function run by Tandem; ignored"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
