//! The previous state of an action, as one form field.

use serde::{de::DeserializeOwned, Deserialize, Deserializer, Serialize, Serializer};

/// The previous state, as a server function argument. On the wire it is one
/// form field (`prev`) holding the state as JSON, so any serde type works.
///
/// ```
/// use tandem::Prev;
/// let p = Prev(vec![1, 2]);
/// let json = serde_json::to_string(&p).unwrap();
/// assert_eq!(json, r#""[1,2]""#);
/// assert_eq!(serde_json::from_str::<Prev<Vec<i32>>>(&json).unwrap().0, vec![1, 2]);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Prev<T>(pub T);

impl<T> Prev<T> {
    /// The state itself.
    ///
    /// ```
    /// assert_eq!(tandem::Prev(3).into_inner(), 3);
    /// ```
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: Serialize> Serialize for Prev<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let json = serde_json::to_string(&self.0).map_err(serde::ser::Error::custom)?;
        s.serialize_str(&json)
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Prev<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let json = String::deserialize(d)?;
        serde_json::from_str(&json).map(Prev).map_err(|e| {
            #[cfg(feature = "ssr")]
            super::decoding::record(super::decoding::DecodeFailure::BadPrev(e.to_string()));
            serde::de::Error::custom(format!("field `prev`: {e}"))
        })
    }
}
