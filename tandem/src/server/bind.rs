//! Bound arguments: values the server puts into an action (the `.bind`
//! counterpart of Next.js), sealed so the browser can neither read nor
//! change them, nor replay them into another action.
//!
//! The server seals a value for one server function with [`seal`]; the
//! token ([`Sealed`]) travels in the page (a hidden field, query data). The
//! function takes the argument as [`Bound<T>`]: Tandem opens it with the
//! key and the function's own path as associated data. A token that was
//! changed, made up, or sealed for another function is refused with `403`
//! before the function runs.
//!
//! The key ([`BindKey`]) comes from `TANDEM_SECRET` (32 bytes, base64):
//! required in release builds, generated with a warning in development. Give
//! every instance the same secret and a token sealed by one opens on all.
//!
//! ```no_run
//! use leptos::prelude::*;
//! use tandem::{Bound, Sealed};
//!
//! #[tandem::server(endpoint = "delete_item")]
//! pub async fn delete_item(id: Bound<i64>) -> Result<(), ServerFnError> {
//!     let id = id.into_inner(); // opened and checked by Tandem
//!     Ok(())
//! }
//!
//! #[tandem::query(endpoint = "list_items")]
//! pub async fn list_items() -> Result<Vec<(String, Sealed)>, ServerFnError> {
//!     // Each row carries the token its delete form posts back.
//!     Ok(vec![("first".into(), tandem::seal::<DeleteItem, _>(&1)?)])
//! }
//! ```

use crate::wire::Sealed;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use serde::{de::DeserializeOwned, Serialize};
use server_fn::ServerFn;

/// What can go wrong with bound arguments.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    /// `TANDEM_SECRET` is missing in a release build.
    #[error("TANDEM_SECRET is required in release builds: 32 random bytes, base64 (e.g. `openssl rand -base64 32`)")]
    MissingSecret,
    /// `TANDEM_SECRET` is not 32 bytes of base64.
    #[error("TANDEM_SECRET must be 32 bytes, base64-encoded: {0}")]
    BadSecret(String),
    /// Sealing outside a request run by Tandem's server.
    #[error(
        "tandem::seal needs the key: call it in a server function or while rendering on the server"
    )]
    NoKey,
    /// The value could not be serialized.
    #[error("cannot seal the value: {0}")]
    Serialize(#[from] serde_json::Error),
    /// The token is not one this server sealed for this function.
    #[error("refused bound argument: {0}")]
    Forged(String),
}

/// The key bound arguments are sealed with. Cheap to clone.
///
/// ```
/// let key = tandem::BindKey::generate();
/// let again = tandem::BindKey::from_base64(&key.to_base64()).unwrap();
/// assert_eq!(key.to_base64(), again.to_base64());
/// ```
#[derive(Clone)]
pub struct BindKey(Key);

impl std::fmt::Debug for BindKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BindKey(…)")
    }
}

impl BindKey {
    /// A new random key.
    ///
    /// ```
    /// let key = tandem::BindKey::generate();
    /// ```
    pub fn generate() -> Self {
        Self(ChaCha20Poly1305::generate_key(&mut OsRng))
    }

    /// The key in `TANDEM_SECRET`; without it, a generated one (with a
    /// warning) in debug builds and [`BindError::MissingSecret`] in release.
    ///
    /// ```no_run
    /// let key = tandem::BindKey::from_env().expect("TANDEM_SECRET");
    /// ```
    pub fn from_env() -> Result<Self, BindError> {
        match std::env::var("TANDEM_SECRET") {
            Ok(secret) => Self::from_base64(secret.trim()),
            _ if cfg!(debug_assertions) => {
                tracing::warn!(
                    "TANDEM_SECRET is not set: bound arguments use a key generated for this \
                 process (tokens do not survive a restart or work across instances)"
                );
                Ok(Self::generate())
            }
            _ => Err(BindError::MissingSecret),
        }
    }

    /// A key from 32 bytes in base64 (standard or URL-safe).
    ///
    /// ```
    /// assert!(tandem::BindKey::from_base64("too short").is_err());
    /// ```
    pub fn from_base64(text: &str) -> Result<Self, BindError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text)
            .or_else(|_| URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')))
            .map_err(|e| BindError::BadSecret(e.to_string()))?;
        if bytes.len() != 32 {
            return Err(BindError::BadSecret(format!(
                "{} bytes, not 32",
                bytes.len()
            )));
        }
        Ok(Self(*Key::from_slice(&bytes)))
    }

    /// The key as base64, for configuration.
    ///
    /// ```
    /// assert_eq!(tandem::BindKey::generate().to_base64().len(), 44);
    /// ```
    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.0)
    }

    /// Seals `value` for the server function at `action`.
    ///
    /// ```
    /// let key = tandem::BindKey::generate();
    /// let token = key.seal_for("/api/delete_post", &7).unwrap();
    /// assert_eq!(key.open_for::<i64>("/api/delete_post", token.as_str()).unwrap(), 7);
    /// assert!(key.open_for::<i64>("/api/other", token.as_str()).is_err());
    /// ```
    pub fn seal_for<T: Serialize>(&self, action: &str, value: &T) -> Result<Sealed, BindError> {
        let json = serde_json::to_vec(value)?;
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        let cipher = ChaCha20Poly1305::new(&self.0);
        let sealed = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: &json,
                    aad: action.as_bytes(),
                },
            )
            .map_err(|_| BindError::Forged("encryption failed".into()))?;
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        Ok(Sealed(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// Opens a token sealed for the server function at `action`.
    ///
    /// ```
    /// let key = tandem::BindKey::generate();
    /// assert!(key.open_for::<i64>("/api/x", "bm90IGEgdG9rZW4").is_err());
    /// ```
    pub fn open_for<T: DeserializeOwned>(&self, action: &str, token: &str) -> Result<T, BindError> {
        let json = self.open_json(action, token)?;
        serde_json::from_slice(&json).map_err(|e| BindError::Forged(e.to_string()))
    }

    /// The JSON inside a token sealed for the function at `action`.
    pub(crate) fn open_json(&self, action: &str, token: &str) -> Result<Vec<u8>, BindError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(token)
            .map_err(|_| BindError::Forged("not a token".into()))?;
        if bytes.len() < 12 + 16 {
            return Err(BindError::Forged("too short to be a token".into()));
        }
        let (nonce, sealed) = bytes.split_at(12);
        let cipher = ChaCha20Poly1305::new(&self.0);
        cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: action.as_bytes(),
                },
            )
            .map_err(|_| BindError::Forged(format!("not sealed by this server for {action}")))
    }
}

/// Seals `value` for the server function `S`, with this server's key.
/// Call it in a server function or while rendering on the server.
///
/// ```no_run
/// # use leptos::prelude::*;
/// # #[tandem::server(endpoint = "archive_item")]
/// # pub async fn archive_item(id: tandem::Bound<i64>) -> Result<(), ServerFnError> { Ok(()) }
/// let token = tandem::seal::<ArchiveItem, _>(&42).expect("inside a request");
/// ```
pub fn seal<S: ServerFn, T: Serialize>(value: &T) -> Result<Sealed, BindError> {
    let key = SCOPED_KEY
        .try_with(BindKey::clone)
        .ok()
        .or_else(leptos::prelude::use_context::<BindKey>)
        .ok_or(BindError::NoKey)?;
    key.seal_for(S::PATH, value)
}

tokio::task_local! {
    /// The key of the query being read for a page (see [`with_key`]).
    static SCOPED_KEY: BindKey;
}

/// Runs `read` (a query read while a page renders) with `key` as the key
/// [`seal`] uses. The read may outlive the reactive owner that started it:
/// when the server renders a `<Suspense>`'s children again, the earlier
/// pass's owner is gone, and with it the context the key was found in.
pub(crate) async fn with_key<F: std::future::Future>(key: Option<BindKey>, read: F) -> F::Output {
    match key {
        Some(key) => SCOPED_KEY.scope(key, read).await,
        None => read.await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    #[tandem::server(endpoint = "tandem_test_bind_probe")]
    async fn probe() -> Result<(), leptos::prelude::ServerFnError> {
        Ok(())
    }

    #[tokio::test]
    async fn a_read_seals_with_the_key_it_started_with_even_without_an_owner() {
        // No reactive owner, no context: no key.
        assert!(matches!(seal::<Probe, _>(&1), Err(BindError::NoKey)));
        let key = BindKey::generate();
        let token = with_key(Some(key.clone()), async {
            tokio::task::yield_now().await;
            seal::<Probe, _>(&7i64)
        })
        .await
        .expect("sealed with the scoped key");
        assert_eq!(
            key.open_for::<i64>(<Probe as ServerFn>::PATH, token.as_str())
                .unwrap(),
            7
        );
    }

    #[test]
    fn tampered_tokens_are_refused() {
        let key = BindKey::generate();
        let token = key.seal_for("/api/delete_post", &5i64).unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(token.as_str()).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let tampered = URL_SAFE_NO_PAD.encode(bytes);
        assert!(key.open_for::<i64>("/api/delete_post", &tampered).is_err());
    }

    #[test]
    fn another_key_cannot_open() {
        let token = BindKey::generate().seal_for("/api/a", &1).unwrap();
        assert!(BindKey::generate()
            .open_for::<i64>("/api/a", token.as_str())
            .is_err());
    }

    #[test]
    fn the_same_secret_opens_on_another_instance() {
        let a = BindKey::generate();
        let b = BindKey::from_base64(&a.to_base64()).unwrap();
        let token = a.seal_for("/api/a", &"x").unwrap();
        assert_eq!(b.open_for::<String>("/api/a", token.as_str()).unwrap(), "x");
    }
}
