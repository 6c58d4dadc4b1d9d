//! `/signup`: a form with issues per field and a file upload, a session
//! cookie, a guarded function and a rate limit.
//!
//! `sign_up` takes `multipart/form-data` (it has a file), checks every
//! field and refuses with all issues at once ([`tandem::invalid`]); on
//! success it stores the user (the password hashed with Argon2, the
//! avatar's bytes and sniffed content type), and signs them in with an
//! `HttpOnly` cookie sealed by the server's key. Calls are limited per
//! client (10 a minute; `TANDEM_DEMO_SIGNUP_LIMIT` changes it).
//! `sign_guestbook` is guarded: without a valid session it is refused
//! with `401` before its body runs.

pub use crate::model::GuestbookEntry;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use server_fn::codec::{MultipartData, MultipartFormData};

/// The most bytes an avatar may have.
pub const AVATAR_LIMIT: usize = 256 * 1024;
/// The session cookie's name.
pub const SESSION_COOKIE: &str = "session";

/// The messages of the form's issues (see the demo contract).
pub mod messages {
    /// A username outside the rules.
    pub const USERNAME: &str = "Username must be 3 to 20 letters, digits or _";
    /// A username someone has.
    pub const USERNAME_TAKEN: &str = "Username is taken";
    /// An email without `@`.
    pub const EMAIL: &str = "Email must contain @";
    /// A short password.
    pub const PASSWORD: &str = "Password must be at least 8 characters";
    /// An avatar that is not an image we take.
    pub const AVATAR_TYPE: &str = "Avatar must be a PNG or JPEG image";
    /// An avatar over [`AVATAR_LIMIT`](super::AVATAR_LIMIT).
    pub const AVATAR_SIZE: &str = "Avatar must be at most 256 KiB";
    /// A blank guestbook message.
    pub const MESSAGE: &str = "Message is required";
    /// A guarded call without a session.
    pub const SIGN_IN: &str = "Sign up or sign in first";
}

/// What a successful sign-up returns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedUp {
    /// The new user's name.
    pub username: String,
    /// Where their avatar is served, if they sent one.
    pub avatar: Option<String>,
}

/// Whether `name` is 3 to 20 ASCII letters, digits or `_`.
pub fn valid_username(name: &str) -> bool {
    (3..=20).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The image type of `bytes`, by their first bytes (never the browser's
/// claim): PNG or JPEG, else `None`.
pub fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else {
        None
    }
}

/// Where `username`'s avatar is served.
pub fn avatar_url(username: &str) -> String {
    format!("/avatars/{username}")
}

/// Signs a new user up (see the [module docs](self)).
#[tandem::server(endpoint = "sign_up", input = MultipartFormData, guard = not_too_often)]
pub async fn sign_up(data: MultipartData) -> Result<SignedUp, ServerFnError> {
    use tandem::server::multipart::{read_form, Limits};
    // A form it cannot read is refused with 400 (413 over the body limit).
    let form = read_form(data, Limits::default().file(AVATAR_LIMIT).fields(16)).await?;
    let username = form.text("username").unwrap_or_default().trim().to_string();
    let email = form.text("email").unwrap_or_default().trim().to_string();
    let password = form.text("password").unwrap_or_default().to_string();
    let store = crate::store::Store::from_context()?;

    let mut issues = tandem::Issues::new();
    if !valid_username(&username) {
        issues.add("username", messages::USERNAME);
    } else if store.user_exists(&username).await? {
        issues.add("username", messages::USERNAME_TAKEN);
    }
    if !email.contains('@') {
        issues.add("email", messages::EMAIL);
    }
    if password.chars().count() < 8 {
        issues.add("password", messages::PASSWORD);
    }
    let avatar = if form.oversized("avatar") {
        issues.add("avatar", messages::AVATAR_SIZE);
        None
    } else {
        match form.file("avatar") {
            None => None,
            Some(file) => match image_type(&file.bytes) {
                Some(content_type) => Some((content_type, file.bytes.to_vec())),
                None => {
                    issues.add("avatar", messages::AVATAR_TYPE);
                    None
                }
            },
        }
    };
    if !issues.is_empty() {
        Err(tandem::invalid(issues))?;
    }

    let hash = hash_password(&password)?;
    let has_avatar = avatar.is_some();
    let created = store
        .create_user(
            &username,
            &email,
            &hash,
            avatar.as_ref().map(|(t, b)| (*t, b.as_slice())),
        )
        .await?;
    if !created {
        // Taken between the check and the insert.
        Err(tandem::invalid(
            tandem::Issues::new().field("username", messages::USERNAME_TAKEN),
        ))?;
    }
    sign_in(&username)?;
    tandem::refresh();
    Ok(SignedUp {
        avatar: has_avatar.then(|| avatar_url(&username)),
        username,
    })
}

/// Who is signed in, if anyone.
#[tandem::query(endpoint = "get_session_user")]
pub async fn get_session_user() -> Result<Option<String>, ServerFnError> {
    Ok(session_user().await?)
}

/// The guestbook, oldest first (tag `guestbook`).
#[tandem::query(endpoint = "get_guestbook")]
pub async fn get_guestbook() -> Result<Vec<GuestbookEntry>, ServerFnError> {
    let store = crate::store::Store::from_context()?;
    Ok(tandem::cache("guestbook", &["guestbook"], move || {
        let store = store.clone();
        async move { store.guestbook().await }
    })
    .await?)
}

/// Signs the guestbook as the signed-in user: guarded, refused with `401`
/// without a session.
#[tandem::server(endpoint = "sign_guestbook", guard = signed_in)]
pub async fn sign_guestbook(message: String) -> Result<String, ServerFnError> {
    let message = message.trim();
    if message.is_empty() {
        Err(tandem::invalid(
            tandem::Issues::new().field("message", messages::MESSAGE),
        ))?;
    }
    let Some(username) = session_user().await? else {
        // The guard let it through: the user was deleted since.
        Err(tandem::deny(
            http::StatusCode::UNAUTHORIZED,
            messages::SIGN_IN,
        ))?
    };
    let store = crate::store::Store::from_context()?;
    store.add_guestbook_entry(&username, message).await?;
    tandem::update_tag("guestbook");
    Ok(format!("Signed as {username}"))
}

/// The rate limit of `sign_up`: per client, 10 a minute unless
/// `TANDEM_DEMO_SIGNUP_LIMIT` says how many.
#[cfg(feature = "ssr")]
async fn not_too_often() -> Result<(), tandem::Denied> {
    use std::sync::LazyLock;
    use tandem::server::limit::{client_key, RateLimit};
    static SIGN_UPS: LazyLock<RateLimit> = LazyLock::new(|| {
        let max = std::env::var("TANDEM_DEMO_SIGNUP_LIMIT")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(10);
        RateLimit::new(max, std::time::Duration::from_secs(60))
            .message("Too many sign-ups from here; try again in a minute")
    });
    SIGN_UPS.check(&client_key())
}

/// The guard of functions for signed-in users only.
#[cfg(feature = "ssr")]
async fn signed_in() -> Result<(), tandem::Denied> {
    match session_user().await {
        Ok(Some(_)) => Ok(()),
        _ => Err(tandem::deny(
            http::StatusCode::UNAUTHORIZED,
            messages::SIGN_IN,
        )),
    }
}

/// The purpose the session cookie is sealed for.
#[cfg(feature = "ssr")]
const SESSION_PURPOSE: &str = "tandem-demo session";

/// Sets the session cookie for `username` (sealed: it cannot be forged).
#[cfg(feature = "ssr")]
fn sign_in(username: &str) -> Result<(), ServerFnError> {
    let key = use_context::<tandem::BindKey>()
        .ok_or_else(|| ServerFnError::new("the server's key is not provided"))?;
    let token = key
        .seal_for(SESSION_PURPOSE, &username)
        .map_err(|e| ServerFnError::new(e.to_string()))?;
    tandem::cookies().set_with(
        SESSION_COOKIE,
        tandem::CookieOptions::new(token.as_str()).max_age(7 * 24 * 3600),
    );
    Ok(())
}

/// The user the request's session cookie names, if it opens and the user
/// exists.
#[cfg(feature = "ssr")]
async fn session_user() -> Result<Option<String>, crate::store::StoreError> {
    let Some(token) = tandem::cookies().get(SESSION_COOKIE) else {
        return Ok(None);
    };
    let Some(key) = use_context::<tandem::BindKey>() else {
        return Ok(None);
    };
    let Ok(username) = key.open_for::<String>(SESSION_PURPOSE, &token) else {
        return Ok(None);
    };
    let store = crate::store::Store::from_context()?;
    Ok(store.user_exists(&username).await?.then_some(username))
}

/// An Argon2 hash of `password`, with a fresh salt.
#[cfg(feature = "ssr")]
fn hash_password(password: &str) -> Result<String, ServerFnError> {
    use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
    let salt = SaltString::generate(&mut OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ServerFnError::new(format!("hashing the password: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_the_rules() {
        assert!(valid_username("ann_1"));
        assert!(!valid_username("an"));
        assert!(!valid_username(&"a".repeat(21)));
        assert!(!valid_username("ann smith"));
        assert!(!valid_username("änn"));
    }

    #[test]
    fn images_are_known_by_their_bytes() {
        assert_eq!(image_type(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(image_type(&[0xff, 0xd8, 0xff, 0xe0]), Some("image/jpeg"));
        assert_eq!(image_type(b"<svg onload=alert(1)>"), None);
        assert_eq!(image_type(b""), None);
    }
}
