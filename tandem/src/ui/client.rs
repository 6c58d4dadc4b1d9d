//! Tandem's client for server functions: a server_fn [`Client`] that asks
//! for the envelope, applies the effects it carries, and hands the codec
//! only the function's own result.
//!
//! A server function opts in with `#[server(client = tandem::TandemClient)]`:
//!
//! ```no_run
//! use leptos::prelude::*;
//!
//! #[tandem::server(endpoint = "bump")]
//! pub async fn bump() -> Result<(), ServerFnError> {
//!     tandem::refresh();
//!     Ok(())
//! }
//! ```
//!
//! The request goes out with the [`TANDEM_HEADER`], the page's path and its
//! mounted queries; the server answers with an [`Envelope`]. Before the call
//! returns, the client navigates on a redirect and puts the fresh query data
//! the envelope carries in place, so an action's pending state lasts until
//! the page shows fresh data, and one request does it all.

use crate::wire::{Envelope, TANDEM_HEADER};
#[cfg(any(feature = "hydrate", feature = "csr"))]
use crate::wire::{PAGE_HEADER, QUERIES_HEADER};
use bytes::Bytes;
use futures::{Sink, Stream};
use send_wrapper::SendWrapper;
use server_fn::client::browser::BrowserClient;
use server_fn::client::Client;
use server_fn::error::{FromServerFnError, IntoAppError, ServerFnErrorErr};
use server_fn::request::browser::BrowserRequest;
use server_fn::response::browser::BrowserResponse;
use server_fn::response::ClientRes;
use std::future::Future;

/// The client of Tandem server functions (see the [module docs](self)).
///
/// ```no_run
/// use leptos::prelude::*;
/// #[tandem::server(endpoint = "ping")]
/// pub async fn ping() -> Result<String, ServerFnError> {
///     Ok("pong".into())
/// }
/// ```
pub struct TandemClient;

impl<E, IS, OS> Client<E, IS, OS> for TandemClient
where
    E: FromServerFnError,
    IS: FromServerFnError,
    OS: FromServerFnError,
{
    type Request = BrowserRequest;
    type Response = TandemResponse;

    fn send(req: Self::Request) -> impl Future<Output = Result<Self::Response, E>> + Send {
        SendWrapper::new(async move {
            req.headers().set(TANDEM_HEADER, "1");
            // A query's own request: the answer says what it read.
            #[cfg(any(feature = "hydrate", feature = "csr"))]
            let query = crate::ui::page::current_query();
            #[cfg(any(feature = "hydrate", feature = "csr"))]
            {
                if let Some(page) = crate::ui::page::current_path() {
                    req.headers().set(PAGE_HEADER, &page);
                }
                let mounted = crate::ui::page::mounted();
                if !mounted.is_empty() {
                    if let Ok(json) = serde_json::to_string(&mounted) {
                        req.headers().set(QUERIES_HEADER, &json);
                    }
                }
            }
            let res: BrowserResponse = <BrowserClient as Client<E, IS, OS>>::send(req).await?;
            let status = ClientRes::<E>::status(&res);
            let status_text = ClientRes::<E>::status_text(&res);
            let location = ClientRes::<E>::location(&res);
            let has_redirect = ClientRes::<E>::has_redirect(&res);
            let bytes = ClientRes::<E>::try_into_bytes(res).await?;
            // Tandem's server answers every call it runs with an envelope,
            // sent as `200` (the function's own status is inside it). Any
            // other answer (a refusal, or one from something in front of
            // the server) is the function's answer as it came. The
            // response's headers are not read: turning them into a
            // `HeaderMap` would ship the `http` crate's header tables to
            // the browser.
            let Some(envelope) = unwrap_envelope(status, &bytes) else {
                return Ok(TandemResponse {
                    status,
                    status_text,
                    location,
                    has_redirect,
                    body: bytes,
                });
            };
            #[cfg(any(feature = "hydrate", feature = "csr"))]
            {
                if let (Some(query), Some(reads)) = (&query, envelope.reads.clone()) {
                    crate::ui::page::remember_reads(query, reads);
                }
                crate::ui::page::note_call(
                    envelope.effects.issues.clone(),
                    envelope.error_id.clone(),
                );
            }
            crate::ui::page::apply(envelope.effects, envelope.queries).await;
            Ok(TandemResponse {
                status: envelope.status,
                status_text,
                location,
                has_redirect: false,
                body: Bytes::from(envelope.body.into_bytes()),
            })
        })
    }

    fn open_websocket(
        path: &str,
    ) -> impl Future<
        Output = Result<
            (
                impl Stream<Item = Result<Bytes, Bytes>> + Send + 'static,
                impl Sink<Bytes> + Send + 'static,
            ),
            E,
        >,
    > + Send {
        <BrowserClient as Client<E, IS, OS>>::open_websocket(path)
    }

    fn spawn(future: impl Future<Output = ()> + Send + 'static) {
        <BrowserClient as Client<E, IS, OS>>::spawn(future)
    }
}

/// The envelope in an answer of `status` with `body`, if it is one.
fn unwrap_envelope(status: u16, body: &[u8]) -> Option<Envelope> {
    if status != 200 {
        return None;
    }
    serde_json::from_slice(body).ok()
}

/// A server function's response with the envelope taken off: its status and
/// its own body, read whole.
///
/// ```
/// use server_fn::response::ClientRes;
/// let res = tandem::TandemResponse::new(200, "42");
/// assert_eq!(ClientRes::<server_fn::ServerFnError>::status(&res), 200);
/// ```
#[derive(Debug, Clone)]
pub struct TandemResponse {
    status: u16,
    status_text: String,
    location: String,
    has_redirect: bool,
    body: Bytes,
}

impl TandemResponse {
    /// A response with this status and body.
    ///
    /// ```
    /// let res = tandem::TandemResponse::new(500, "boom");
    /// # let _ = res;
    /// ```
    pub fn new(status: u16, body: impl Into<Bytes>) -> Self {
        Self {
            status,
            status_text: String::new(),
            location: String::new(),
            has_redirect: false,
            body: body.into(),
        }
    }
}

impl<E: FromServerFnError> ClientRes<E> for TandemResponse {
    fn try_into_string(self) -> impl Future<Output = Result<String, E>> + Send {
        let text = String::from_utf8(self.body.to_vec())
            .map_err(|e| ServerFnErrorErr::Deserialization(e.to_string()).into_app_error());
        SendWrapper::new(async move { text })
    }

    fn try_into_bytes(self) -> impl Future<Output = Result<Bytes, E>> + Send {
        SendWrapper::new(async move { Ok(self.body) })
    }

    fn try_into_stream(
        self,
    ) -> Result<impl Stream<Item = Result<Bytes, Bytes>> + Send + Sync + 'static, E> {
        Ok(futures::stream::iter([Ok(self.body)]))
    }

    fn status(&self) -> u16 {
        self.status
    }

    fn status_text(&self) -> String {
        self.status_text.clone()
    }

    fn location(&self) -> String {
        self.location.clone()
    }

    fn has_redirect(&self) -> bool {
        self.has_redirect
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use server_fn::ServerFnError;

    #[test]
    fn response_hands_the_codec_the_inner_body() {
        let res = TandemResponse::new(201, "\"Created post 3\"");
        assert_eq!(ClientRes::<ServerFnError>::status(&res), 201);
        let text = futures::executor::block_on(ClientRes::<ServerFnError>::try_into_string(res));
        assert_eq!(text.unwrap(), "\"Created post 3\"");
    }

    #[test]
    fn only_a_200_that_is_an_envelope_is_unwrapped() {
        let envelope = br#"{"status":201,"body":"\"Created post 3\"","effects":{"refresh":true}}"#;
        let unwrapped = unwrap_envelope(200, envelope).expect("an envelope");
        assert_eq!(unwrapped.status, 201);
        assert!(unwrapped.effects.refresh);
        // A refusal, or an error page from a proxy: the answer as it came.
        assert_eq!(unwrap_envelope(403, envelope), None);
        assert_eq!(unwrap_envelope(502, b"<html>Bad gateway</html>"), None);
        // A function's own answer (no Tandem middleware in front of it).
        assert_eq!(unwrap_envelope(200, br#"{"title":"A post"}"#), None);
        assert_eq!(unwrap_envelope(200, b"42"), None);
    }
}
