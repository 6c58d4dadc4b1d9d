//! While the server decodes a call's arguments: how a sealed argument is
//! opened, and where a failure of Tandem's own argument types is recorded,
//! typed, for the server to answer with its status.
//!
//! The server side provides the scope (it holds the key); the argument
//! types ([`Bound`](super::bound::Bound), [`Prev`](super::prev::Prev)) only use it, so
//! the wire never depends on the server.

use std::future::Future;
use std::sync::Arc;

/// Why one of Tandem's argument types did not decode.
///
/// ```
/// let f = tandem::wire::DecodeFailure::Forged;
/// assert!(f.to_string().contains("bound argument"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeFailure {
    /// A [`Bound`](super::bound::Bound) token this server did not seal for this
    /// function: changed, made up, or sealed for another one.
    #[error("refused bound argument: it was not sealed by this server for this function")]
    Forged,
    /// The `prev` field is not the previous state as JSON.
    #[error("field `prev` is not the previous state: {0}")]
    BadPrev(String),
}

/// What the server gives the decoding of one call.
pub(crate) trait Decoding: Send + Sync {
    /// The JSON sealed in `token` for the function being called, if this
    /// server sealed it for that function.
    fn open(&self, token: &str) -> Option<Vec<u8>>;
    /// Records why an argument did not decode.
    fn record(&self, failure: DecodeFailure);
}

tokio::task_local! {
    static SCOPE: Arc<dyn Decoding>;
}

/// Runs `call` with `scope` as its decoding scope.
pub(crate) fn scoped<F: Future>(
    scope: Arc<dyn Decoding>,
    call: F,
) -> impl Future<Output = F::Output> {
    SCOPE.scope(scope, call)
}

/// Opens `token` in the current scope; `None` outside one or if refused.
pub(crate) fn open(token: &str) -> Option<Vec<u8>> {
    SCOPE.try_with(|s| s.open(token)).ok().flatten()
}

/// Records `failure` in the current scope, if there is one.
pub(crate) fn record(failure: DecodeFailure) {
    let _ = SCOPE.try_with(|s| s.record(failure));
}
