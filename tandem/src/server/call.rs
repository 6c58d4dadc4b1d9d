//! One call of a server function: the scope its arguments decode in.
//!
//! While a call's arguments decode, a [`Bound`](crate::Bound) opens with
//! this server's key and the function's own path, and a failure of one of
//! Tandem's argument types is recorded here, typed: the pipeline answers it
//! with its own status (a forged token `403`, a broken `prev` `400`).

use crate::server::bind::BindKey;
use crate::wire::{DecodeFailure, Decoding};
use std::borrow::Cow;
use std::sync::{Arc, Mutex};

/// The decoding scope of one call.
pub(crate) struct CallScope {
    key: BindKey,
    function: Cow<'static, str>,
    failure: Mutex<Option<DecodeFailure>>,
}

impl CallScope {
    /// The scope for a call of the function at `function` (a declared
    /// function's path is `'static`: no copy).
    pub(crate) fn new(key: BindKey, function: impl Into<Cow<'static, str>>) -> Arc<Self> {
        Arc::new(Self {
            key,
            function: function.into(),
            failure: Mutex::new(None),
        })
    }

    /// The first failure recorded, if any.
    pub(crate) fn failure(&self) -> Option<DecodeFailure> {
        self.failure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Decoding for CallScope {
    fn open(&self, token: &str) -> Option<Vec<u8>> {
        self.key.open_json(&self.function, token).ok()
    }

    fn record(&self, failure: DecodeFailure) {
        let mut slot = self.failure.lock().unwrap_or_else(|e| e.into_inner());
        slot.get_or_insert(failure);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{scoped, Bound, Prev};

    #[tokio::test]
    async fn a_bound_argument_opens_for_its_own_function_only() {
        let key = BindKey::generate();
        let token = key.seal_for("/api/a", &9i64).expect("seal");
        let json = format!("\"{token}\"");
        let own = CallScope::new(key.clone(), "/api/a");
        let opened: Bound<i64> = scoped(own.clone(), async {
            serde_json::from_str(&json).expect("opens")
        })
        .await;
        assert_eq!(opened.into_inner(), 9);
        assert_eq!(own.failure(), None);

        let other = CallScope::new(key, "/api/b");
        let refused = scoped(other.clone(), async {
            serde_json::from_str::<Bound<i64>>(&json)
        })
        .await;
        assert!(refused.is_err());
        assert_eq!(other.failure(), Some(DecodeFailure::Forged));
        // Outside any scope nothing opens.
        assert!(serde_json::from_str::<Bound<i64>>(&json).is_err());
    }

    #[tokio::test]
    async fn a_broken_prev_is_recorded_as_such() {
        let scope = CallScope::new(BindKey::generate(), "/api/a");
        let refused = scoped(scope.clone(), async {
            serde_json::from_str::<Prev<Vec<i32>>>(r#""{broken""#)
        })
        .await;
        assert!(refused.is_err());
        assert!(matches!(scope.failure(), Some(DecodeFailure::BadPrev(_))));
    }
}
