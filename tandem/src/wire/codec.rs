//! A server function's codec, as both sides need to know it: which input
//! encoding its `Http<Input, Output>` protocol has.

use server_fn::codec::Encoding;
use server_fn::{ContentType, ServerFn};

/// The input encoding of server_fn's `Http<Input, Output>` protocol (every
/// function a form or a query can call has one).
pub trait HttpCodec {
    /// The input encoding (`PostUrl`, `Json`, `MultipartFormData`…).
    type Input: Encoding;
    /// The output encoding (`Json`, `PostUrl`…).
    type Output;
}

impl<I: Encoding, O> HttpCodec for server_fn::Http<I, O> {
    type Input = I;
    type Output = O;
}

/// Whether `S` takes `multipart/form-data` (a form with files).
///
/// ```no_run
/// use leptos::prelude::*;
/// #[tandem::server]
/// pub async fn rename(name: String) -> Result<(), ServerFnError> { Ok(()) }
/// assert!(!tandem::wire::is_multipart::<Rename>());
/// ```
pub const fn is_multipart<S>() -> bool
where
    S: ServerFn,
    S::Protocol: HttpCodec,
{
    let ct = <<S::Protocol as HttpCodec>::Input as ContentType>::CONTENT_TYPE.as_bytes();
    let multipart = b"multipart/form-data";
    if ct.len() != multipart.len() {
        return false;
    }
    let mut i = 0;
    while i < ct.len() {
        if ct[i] != multipart[i] {
            return false;
        }
        i += 1;
    }
    true
}
