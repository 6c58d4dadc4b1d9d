//! Bound arguments on the wire: the sealed token ([`Sealed`]) and the
//! argument type that carries it ([`Bound`]). The server seals and opens
//! them (`tandem::server::bind`); here they are opaque text.

use serde::{de::DeserializeOwned, Deserialize, Deserializer, Serialize, Serializer};

/// A sealed value, as it travels in pages and data.
///
/// ```
/// let key = tandem::BindKey::generate();
/// let token: tandem::Sealed = key.seal_for("/api/x", &"secret").unwrap();
/// assert!(!token.as_str().contains("secret"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Sealed(pub(crate) String);

impl Sealed {
    /// The token text (URL-safe base64).
    ///
    /// ```
    /// let token = tandem::BindKey::generate().seal_for("/api/x", &1).unwrap();
    /// assert!(token.as_str().chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    /// ```
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A server function argument the server sealed (see the
/// [module docs](self)). Decoding it checks the seal; the function gets the
/// value.
///
/// ```no_run
/// # use leptos::prelude::*;
/// #[tandem::server(endpoint = "remove")]
/// pub async fn remove(id: tandem::Bound<i64>) -> Result<i64, ServerFnError> {
///     Ok(id.into_inner())
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bound<T> {
    value: Option<T>,
    token: String,
}

impl<T> Bound<T> {
    /// A bound argument from a token (to call the function from Rust in the
    /// browser with a token the server sent).
    ///
    /// ```
    /// let b: tandem::Bound<i64> = tandem::Bound::from_token("abc");
    /// ```
    pub fn from_token(token: impl Into<String>) -> Self {
        Self {
            value: None,
            token: token.into(),
        }
    }

    /// The opened value. Only a server function that received it has one.
    ///
    /// # Panics
    ///
    /// On a `Bound` that was not decoded by the server (built with
    /// [`Bound::from_token`]): that is a bug in the calling code, not input.
    pub fn into_inner(self) -> T {
        match self.value {
            Some(v) => v,
            None => panic!("tandem::Bound::into_inner on a token the server has not opened"),
        }
    }
}

impl<T> Serialize for Bound<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.token)
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Bound<T> {
    #[cfg(not(feature = "ssr"))]
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // In the browser a token stays a token.
        Ok(Self::from_token(String::deserialize(d)?))
    }

    #[cfg(feature = "ssr")]
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let token = String::deserialize(d)?;
        let value =
            super::decoding::open(&token).and_then(|json| serde_json::from_slice::<T>(&json).ok());
        match value {
            Some(value) => Ok(Self {
                value: Some(value),
                token,
            }),
            None => {
                let failure = super::decoding::DecodeFailure::Forged;
                let message = failure.to_string();
                super::decoding::record(failure);
                Err(serde::de::Error::custom(message))
            }
        }
    }
}
