//! The functions declared to Tandem with `#[tandem::server]` and
//! `#[tandem::query]`, gathered at start.
//!
//! Each declaration knows its function's codec, so Tandem checks a call's
//! body before the function runs: a content type the codec does not read
//! is `415`, a body that does not decode is `400` (a forged bound argument
//! `403`), and nothing runs. Only functions declared as queries may be
//! named among the queries an action asks the server to read again.
//!
//! ```no_run
//! use leptos::prelude::*;
//!
//! #[tandem::query]
//! pub async fn get_count() -> Result<i64, ServerFnError> {
//!     Ok(1)
//! }
//!
//! # fn main() {
//! let declared = tandem::server::Declared::find("/api/get_count").expect("declared");
//! assert_eq!(declared.kind(), tandem::server::Kind::Query);
//! # }
//! ```

use crate::server::refusal::{BadArguments, ForgedArgument, MalformedBody, Refusal};
use crate::wire::{DecodeFailure, HttpCodec};
use axum::body::Body;
use futures::future::BoxFuture;
use rustc_hash::FxHashMap;
use server_fn::codec::{Encoding, FromReq, IntoRes};
use server_fn::error::{FromServerFnError, ServerFnErrorErr};
use server_fn::response::Res;
use server_fn::{ContentType, ServerFn, ServerFnError};
use std::sync::OnceLock;

/// What a declared function is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `#[tandem::server]`: any server function (a mutation, usually).
    Server,
    /// `#[tandem::query]`: reads only; may be mounted and read again.
    Query,
}

type Check = fn(http::Request<Body>) -> BoxFuture<'static, Result<(), ServerFnError>>;
type Run =
    fn(http::Request<Body>) -> BoxFuture<'static, Result<http::Response<Body>, ServerFnError>>;

/// One function declared with `#[tandem::server]` or `#[tandem::query]`
/// (the attributes submit it; you do not build it yourself).
pub struct Declared {
    path: &'static str,
    kind: Kind,
    content_type: &'static str,
    check: Check,
    run: Run,
    method: http::Method,
    layered: fn() -> bool,
    error_content_type: &'static str,
    ser: fn(ServerFnErrorErr) -> bytes::Bytes,
}

server_fn::inventory::collect!(Declared);

impl Declared {
    /// The declaration of `S`, as the attributes submit it.
    pub const fn new<S>(kind: Kind) -> Self
    where
        S: ServerFn + Send + 'static,
        S::Protocol: HttpCodec,
        S: FromReq<<S::Protocol as HttpCodec>::Input, http::Request<Body>, ServerFnError>,
        S::Output: IntoRes<<S::Protocol as HttpCodec>::Output, http::Response<Body>, S::Error>,
    {
        Self {
            path: S::PATH,
            kind,
            content_type: <<S::Protocol as HttpCodec>::Input as ContentType>::CONTENT_TYPE,
            check: check::<S>,
            run: run::<S>,
            method: <<S::Protocol as HttpCodec>::Input as Encoding>::METHOD,
            layered: layered::<S>,
            error_content_type:
                <<S::Error as FromServerFnError>::Encoder as ContentType>::CONTENT_TYPE,
            ser: ser::<S>,
        }
    }

    /// The declared function at `path`, if any.
    pub fn find(path: &str) -> Option<&'static Declared> {
        // Keyed by the fixed set of declared paths, so a fast hash (Fx)
        // rather than the default SipHash, which costs more than the rest.
        static ALL: OnceLock<FxHashMap<&'static str, &'static Declared>> = OnceLock::new();
        ALL.get_or_init(|| {
            server_fn::inventory::iter::<Declared>()
                .map(|d| (d.path, d))
                .collect()
        })
        .get(path)
        .copied()
    }

    /// Every declared function.
    pub fn all() -> impl Iterator<Item = &'static Declared> {
        server_fn::inventory::iter::<Declared>()
    }

    /// Its URL path.
    pub fn path(&self) -> &'static str {
        self.path
    }

    /// What it is for.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The content type its codec reads.
    pub fn content_type(&self) -> &'static str {
        self.content_type
    }

    /// Whether its codec reads `multipart/form-data` (a form with files,
    /// streamed to it).
    pub fn multipart(&self) -> bool {
        self.content_type == "multipart/form-data"
    }

    /// Whether its codec reads URL-encoded text (the body, or the query of
    /// a `GET`).
    pub(crate) fn url_encoded(&self) -> bool {
        self.content_type == "application/x-www-form-urlencoded"
    }

    /// Decodes the call's arguments the way the function will, without
    /// running it. Run it inside the call's decoding scope (a forged bound
    /// argument is recorded there), then turn a failure into its refusal
    /// with [`Declared::refusal`].
    pub(crate) async fn decode(&self, request: http::Request<Body>) -> Result<(), ServerFnError> {
        (self.check)(request).await
    }

    /// The method it is called with.
    pub(crate) fn method(&self) -> &http::Method {
        &self.method
    }

    /// Whether the function has server_fn middlewares (`#[middleware]`):
    /// those wrap the request before it is decoded, so such a function is
    /// checked with [`Declared::decode`] and then run through server_fn's
    /// service, which decodes it again.
    pub(crate) fn layered(&self) -> bool {
        (self.layered)()
    }

    /// Decodes the call's arguments once and runs the function with them:
    /// `Err` when they did not decode (nothing ran; see
    /// [`Declared::refusal`]), else the function's answer, its error
    /// encoded as server_fn's own service encodes it. What
    /// `Protocol::run_server` does, with the decoding failure kept apart
    /// from the function's. Run it inside the call's owner and decoding
    /// scope.
    pub(crate) async fn run(
        &self,
        request: http::Request<Body>,
    ) -> Result<http::Response<Body>, ServerFnError> {
        (self.run)(request).await
    }

    /// The refusal for arguments that did not decode: from what the
    /// decoding scope recorded, else from the codec's error variant.
    pub(crate) fn refusal(&self, error: ServerFnError, recorded: Option<DecodeFailure>) -> Refusal {
        let function = self.path.to_string();
        match (recorded, error) {
            (Some(failure), _) => refusal_for(self.path, failure),
            // The body could not be read as URL-encoded text.
            (None, ServerFnError::Deserialization(reason)) if self.url_encoded() => {
                MalformedBody { reason }.into()
            }
            (None, ServerFnError::Args(reason))
            | (None, ServerFnError::MissingArg(reason))
            | (None, ServerFnError::Deserialization(reason)) => {
                BadArguments { function, reason }.into()
            }
            (None, other) => BadArguments {
                function,
                reason: other.to_string(),
            }
            .into(),
        }
    }

    /// `message` as the function's own error type encodes it, and that
    /// encoding's content type: how a refusal reaches the function's
    /// caller, so its client decodes it like any error of the function.
    pub(crate) fn encode_error(&self, message: String) -> (&'static str, bytes::Bytes) {
        (
            self.error_content_type,
            (self.ser)(ServerFnErrorErr::ServerError(message)),
        )
    }
}

fn check<S>(request: http::Request<Body>) -> BoxFuture<'static, Result<(), ServerFnError>>
where
    S: ServerFn + Send + 'static,
    S::Protocol: HttpCodec,
    S: FromReq<<S::Protocol as HttpCodec>::Input, http::Request<Body>, ServerFnError>,
{
    Box::pin(async move { S::from_req(request).await.map(|_| ()) })
}

fn run<S>(
    request: http::Request<Body>,
) -> BoxFuture<'static, Result<http::Response<Body>, ServerFnError>>
where
    S: ServerFn + Send + 'static,
    S::Protocol: HttpCodec,
    S: FromReq<<S::Protocol as HttpCodec>::Input, http::Request<Body>, ServerFnError>,
    S::Output: IntoRes<<S::Protocol as HttpCodec>::Output, http::Response<Body>, S::Error>,
{
    Box::pin(async move {
        let input = S::from_req(request).await?;
        let answered = match input.run_body().await {
            Ok(output) => output.into_res().await,
            Err(error) => Err(error),
        };
        Ok(answered.unwrap_or_else(|error| {
            let mut response = http::Response::<Body>::error_response(S::PATH, error.ser());
            response.content_type(
                <<S::Error as FromServerFnError>::Encoder as ContentType>::CONTENT_TYPE,
            );
            response
        }))
    })
}

fn layered<S: ServerFn>() -> bool {
    !S::middlewares().is_empty()
}

fn ser<S: ServerFn>(error: ServerFnErrorErr) -> bytes::Bytes {
    S::Error::from_server_fn_error(error).ser()
}

/// The refusal for a failure of Tandem's argument types while the function
/// at `function` decoded.
pub(crate) fn refusal_for(function: &str, failure: DecodeFailure) -> Refusal {
    let function = function.to_string();
    match failure {
        DecodeFailure::Forged => ForgedArgument { function }.into(),
        DecodeFailure::BadPrev(reason) => BadArguments {
            function,
            reason: format!("field `prev`: {reason}"),
        }
        .into(),
    }
}
