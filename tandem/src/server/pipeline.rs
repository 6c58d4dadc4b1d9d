//! The request pipeline: one server function call, from a checked request
//! to what it did. The JS call (answered with the envelope) and the form
//! posted without JavaScript (answered with the page) both go through
//! `Pipeline::call`, step by step:
//!
//! 1. the body is read within its limit and its time ([`read_body`]);
//! 2. for a function declared with `#[tandem::server]`/`#[tandem::query]`,
//!    the body is checked against its codec: its content type (`415`) and
//!    its form (`400`);
//! 3. the function runs, with the effects record, the cache, the page's
//!    path and the app's context, inside a tracing span that names it
//!    (`debug` level: `RUST_LOG=tandem=debug,info` turns it on); a
//!    declared function's arguments are decoded once, where it runs, and
//!    when they do not decode (`400`; a forged bound argument `403`) its
//!    body never starts;
//! 4. a failure of Tandem's argument types recorded while it decoded
//!    becomes its refusal;
//! 5. its effects are applied to the cache.
//!
//! Sub-requests (the call itself, the queries read again, the page
//! rendered after a no-JS post) are built by one helper, [`subrequest`],
//! which forwards the browser's headers and sets the cookies the action
//! left.

use super::bind::BindKey;
use super::cache::Cache;
use super::call::CallScope;
use super::cookies::cookie_header;
use super::guard::ConnectionAddrs;
use super::record::EffectsRecord;
use super::refusal::{BodyTimeout, BodyTooLarge, MalformedBody, Refusal, UnsupportedContentType};
use super::registry::Declared;
use super::registry::Kind;
use crate::wire::{
    path_tags, Body as WireBody, Effects, FreshQuery, MountedQuery, Named, Reads, PAGE_HEADER,
    QUERIES_HEADER, TANDEM_HEADER,
};
use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use leptos::nonce::Nonce;
use leptos::prelude::{provide_context, use_context};
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

/// A call's body: read whole, or (a multipart form) streamed to the
/// function within its limit and time.
pub(crate) enum CallBody {
    /// Read whole.
    Bytes(Bytes),
    /// Streamed: at most `limit` bytes, arriving within `timeout`.
    Stream {
        /// The request's body.
        body: Body,
        /// Its limit in bytes.
        limit: usize,
        /// The time it may take.
        timeout: Duration,
    },
}

/// The addresses of the connection a request came on, kept on the requests
/// Tandem makes for it (the host check, rate limits).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Connection(Option<ConnectionAddrs>);

impl Connection {
    /// The addresses a request carries.
    pub(crate) fn of(extensions: &http::Extensions) -> Self {
        Self(extensions.get::<ConnectionAddrs>().copied())
    }

    /// The address the connection came in on.
    pub(crate) fn local(&self) -> Option<std::net::SocketAddr> {
        self.0.and_then(|addrs| addrs.local)
    }

    fn apply(&self, request: &mut Request) {
        if let Some(addrs) = self.0 {
            request.extensions_mut().insert(addrs);
        }
    }
}

/// One call to run.
pub(crate) struct Call<'a> {
    /// The function's path.
    pub function: &'a str,
    /// Its method.
    pub method: Method,
    /// The target to call it at (a `GET` function's arguments are in its
    /// query).
    pub uri: Uri,
    /// The browser's request headers.
    pub headers: &'a HeaderMap,
    /// The body's content type.
    pub content_type: Option<HeaderValue>,
    /// The body.
    pub body: CallBody,
    /// The page the call was made from.
    pub page: Option<Arc<str>>,
    /// The connection it came on.
    pub conn: Connection,
}

/// What a call did.
pub(crate) struct Ran {
    /// The function's status.
    pub status: StatusCode,
    /// Its response headers.
    pub headers: HeaderMap,
    /// Its response body.
    pub body: Bytes,
    /// What it recorded: effects and cookie changes.
    pub record: EffectsRecord,
    /// The effects, as applied to the cache.
    pub effects: Effects,
    /// When the function is a declared query: the tags of what it read.
    pub reads: Option<Reads>,
    /// When it failed unexpectedly: the id the failure was logged with.
    pub error_id: Option<String>,
}

/// What a sub-request is for: which of the browser's headers it keeps.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Purpose {
    /// A server function call: no `Accept` (server_fn would answer an
    /// error with a redirect for `text/html`).
    Function,
    /// Rendering a page.
    Page,
}

/// A server function call built from the browser's `headers`: every
/// header but the body's, `Accept` (server_fn would answer an error with a
/// redirect for `text/html`), the cookies (replaced by `cookies`, which
/// has the action's changes) and Tandem's own, plus `content_type`.
pub(crate) fn function_request(
    method: Method,
    uri: Uri,
    headers: &HeaderMap,
    conn: Connection,
    content_type: Option<HeaderValue>,
    cookies: &str,
    body: Body,
) -> Request {
    let mut request = Request::new(body);
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    forward(&mut request, headers, conn, Purpose::Function, cookies);
    if let Some(content_type) = content_type {
        request
            .headers_mut()
            .insert(header::CONTENT_TYPE, content_type);
    }
    request
}

/// A `GET` of the page at `uri` built from the browser's `headers` (as
/// [`function_request`], `Accept` kept).
pub(crate) fn page_request(
    uri: Uri,
    headers: &HeaderMap,
    conn: Connection,
    cookies: &str,
) -> Request {
    let mut request = Request::new(Body::empty());
    *request.uri_mut() = uri;
    forward(&mut request, headers, conn, Purpose::Page, cookies);
    request
}

/// Copies the browser's `headers` that a sub-request keeps onto `request`.
fn forward(
    request: &mut Request,
    headers: &HeaderMap,
    conn: Connection,
    purpose: Purpose,
    cookies: &str,
) {
    const DROPPED: [HeaderName; 4] = [
        header::CONTENT_LENGTH,
        header::CONTENT_TYPE,
        header::COOKIE,
        header::TRANSFER_ENCODING,
    ];
    conn.apply(request);
    let forwarded = request.headers_mut();
    for (name, value) in headers {
        let tandems = [TANDEM_HEADER, QUERIES_HEADER, PAGE_HEADER].contains(&name.as_str());
        let accept = purpose == Purpose::Function && name == header::ACCEPT;
        if !DROPPED.contains(name) && !tandems && !accept {
            forwarded.append(name, value.clone());
        }
    }
    if !cookies.is_empty() {
        if let Ok(cookies) = HeaderValue::from_str(cookies) {
            forwarded.insert(header::COOKIE, cookies);
        }
    }
}

/// The whole of a function's answer, empty if it fails to read. An answer
/// in one frame (what a codec's answer is) is taken as it came, without
/// the collector's list of buffers and its copy.
async fn answer_bytes(mut body: Body) -> Bytes {
    use http_body::Body as _;
    use http_body_util::BodyExt;
    let first = match body.frame().await {
        None => return Bytes::new(),
        Some(Err(_)) => return Bytes::new(),
        Some(Ok(frame)) => frame.into_data().unwrap_or_default(),
    };
    if body.is_end_stream() {
        return first;
    }
    match body.collect().await {
        Ok(rest) => {
            let rest = rest.to_bytes();
            let mut all = bytes::BytesMut::with_capacity(first.len() + rest.len());
            all.extend_from_slice(&first);
            all.extend_from_slice(&rest);
            all.freeze()
        }
        Err(_) => Bytes::new(),
    }
}

/// Reads a whole body, within `limit` bytes and `timeout`. Past the
/// limit the rest is read and dropped (see [`drain`]) before the `413`.
pub(crate) async fn read_body(
    body: Body,
    limit: usize,
    timeout: Duration,
) -> Result<Bytes, Refusal> {
    use futures::StreamExt;
    let deadline = tokio::time::Instant::now() + timeout;
    let too_slow = || -> Refusal {
        BodyTimeout {
            seconds: timeout.as_secs(),
        }
        .into()
    };
    let mut stream = body.into_data_stream();
    // A body that comes in one chunk (most do) is kept as it came; only a
    // second chunk starts a copy. The body so far is `first`, else `copied`.
    let mut first: Option<Bytes> = None;
    let mut copied = bytes::BytesMut::new();
    let mut read = 0usize;
    loop {
        match tokio::time::timeout_at(deadline, stream.next()).await {
            Err(_) => return Err(too_slow()),
            Ok(None) => return Ok(first.unwrap_or_else(|| copied.freeze())),
            Ok(Some(Err(e))) => {
                return Err(MalformedBody {
                    reason: format!("the body could not be read: {e}"),
                }
                .into())
            }
            Ok(Some(Ok(chunk))) if read + chunk.len() > limit => {
                drain(&mut stream, deadline).await;
                return Err(BodyTooLarge { limit }.into());
            }
            Ok(Some(Ok(chunk))) => {
                read += chunk.len();
                match first.take() {
                    None if copied.is_empty() => first = Some(chunk),
                    None => copied.extend_from_slice(&chunk),
                    Some(earlier) => {
                        copied.extend_from_slice(&earlier);
                        copied.extend_from_slice(&chunk);
                    }
                }
            }
        }
    }
}

/// How much of a body over its limit is read and dropped before answering.
const DRAIN_LIMIT: usize = 8 << 20;

/// Reads and drops the rest of a body that is over its limit (at most
/// [`DRAIN_LIMIT`] bytes, until `deadline`): a client still sending gets
/// the `413` instead of a connection reset under its upload.
async fn drain<S, E>(stream: &mut S, deadline: tokio::time::Instant)
where
    S: futures::Stream<Item = Result<Bytes, E>> + Unpin,
{
    use futures::StreamExt;
    let mut dropped = 0;
    while dropped <= DRAIN_LIMIT {
        match tokio::time::timeout_at(deadline, stream.next()).await {
            Ok(Some(Ok(chunk))) => dropped += chunk.len(),
            _ => return,
        }
    }
}

/// Checks that URL-encoded text is well-formed: every `%` starts an escape
/// of two hex digits, and what the escapes spell is UTF-8.
pub(crate) fn check_url_encoded(text: &[u8]) -> Result<(), MalformedBody> {
    let mut decoded = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'%' => {
                let hex = |b: Option<&u8>| b.and_then(|b| (*b as char).to_digit(16));
                match (hex(text.get(i + 1)), hex(text.get(i + 2))) {
                    (Some(hi), Some(lo)) => decoded.push((hi * 16 + lo) as u8),
                    _ => {
                        return Err(MalformedBody {
                            reason: format!(
                                "a broken percent escape at byte {i}: {:?}",
                                String::from_utf8_lossy(&text[i..text.len().min(i + 3)])
                            ),
                        })
                    }
                }
                i += 3;
            }
            b'&' | b'=' => {
                std::str::from_utf8(&decoded).map_err(|e| MalformedBody {
                    reason: format!("a field that is not UTF-8: {e}"),
                })?;
                decoded.clear();
                i += 1;
            }
            other => {
                decoded.push(other);
                i += 1;
            }
        }
    }
    std::str::from_utf8(&decoded)
        .map(|_| ())
        .map_err(|e| MalformedBody {
            reason: format!("a field that is not UTF-8: {e}"),
        })
}

/// The body's content type must be the one the function's codec reads; a
/// URL-encoded body (or a `GET`'s query) must be well-formed.
fn check_codec(declared: &Declared, call: &Call<'_>) -> Result<(), Refusal> {
    let expected = declared.content_type();
    if call.method == Method::GET {
        let query = call.uri.query().unwrap_or("");
        return Ok(check_url_encoded(query.as_bytes())?);
    }
    let got = call
        .content_type
        .as_ref()
        .map_or("", |v| v.to_str().unwrap_or("(not text)"));
    let empty = matches!(&call.body, CallBody::Bytes(b) if b.is_empty());
    // The codec's type as it is (what clients send) needs no parsing.
    let matches = got.eq_ignore_ascii_case(expected)
        || match super::guard::media_type(got) {
            Some(media) => media.eq_ignore_ascii_case(expected),
            // No body at all: nothing to misread.
            None => got.is_empty() && empty,
        };
    if !matches {
        return Err(UnsupportedContentType {
            got: got.to_string(),
            expected: expected.to_string(),
        }
        .into());
    }
    match &call.body {
        CallBody::Bytes(body) if declared.url_encoded() => check_url_encoded(body)?,
        // server_fn panics on a multipart body without a boundary.
        _ if expected == "multipart/form-data" && multer::parse_boundary(got).is_err() => {
            return Err(MalformedBody {
                reason: "a multipart body without a boundary in its content type".into(),
            }
            .into())
        }
        _ => {}
    }
    Ok(())
}

/// What a call runs with: the app's context, the cache and the key of
/// bound arguments. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Pipeline {
    pub(crate) context: Arc<dyn Fn() + Send + Sync>,
    pub(crate) cache: Cache,
    pub(crate) key: BindKey,
}

impl Pipeline {
    /// The context for rendering pages and running functions: the app's,
    /// plus the cache, the key of bound arguments, and the page's CSP nonce.
    pub(crate) fn page_context(&self) -> impl Fn() + Clone + Send + Sync + 'static {
        let context = self.context.clone();
        let cache = self.cache.clone();
        let key = self.key.clone();
        move || {
            context();
            provide_context(cache.clone());
            provide_context(key.clone());
            // The nonce the page's Content-Security-Policy names.
            if let Some(nonce) = use_context::<http::request::Parts>()
                .and_then(|parts| parts.extensions.get::<Nonce>().cloned())
            {
                provide_context(nonce);
            }
        }
    }

    /// Runs one call through the pipeline (see the [module docs](self)).
    ///
    /// Boxed: the call's future is about 12 KiB, and its callers' futures
    /// would otherwise hold it inline and be copied whole each time they
    /// move (a fifth of a call's CPU time went to those copies, measured
    /// with callgrind).
    pub(crate) fn call<'a>(
        &'a self,
        call: Call<'a>,
    ) -> futures::future::BoxFuture<'a, Result<Ran, Refusal>> {
        Box::pin(self.call_inline(call))
    }

    async fn call_inline(&self, call: Call<'_>) -> Result<Ran, Refusal> {
        let declared = Declared::find(call.function);
        let function: std::borrow::Cow<'static, str> = match declared {
            Some(declared) => declared.path().into(),
            None => call.function.to_string().into(),
        };
        let scope = CallScope::new(self.key.clone(), function);
        let record = EffectsRecord::new(cookie_header(call.headers));
        let cookies = record.cookie_header();
        let request = |body: Body| {
            function_request(
                call.method.clone(),
                call.uri.clone(),
                call.headers,
                call.conn,
                call.content_type.clone(),
                &cookies,
                body,
            )
        };
        // A debug-level span: at the default `info` level it is off and
        // costs nothing; on, it formats its fields for every call (a tenth
        // of a call's instructions, measured with callgrind). What Tandem
        // logs itself names the function.
        let span = tracing::debug_span!("server_fn", path = call.function);
        if let Some(declared) = declared {
            check_codec(declared, &call)?;
        }
        // A declared function is decoded once, where it runs (`direct`);
        // one with server_fn middlewares (which see the request before it
        // is decoded) is decoded here first, then again by its service. A
        // streamed body (a multipart form) is read by the function itself.
        let (direct, layered) = match declared {
            Some(declared) if declared.layered() => (None, Some(declared)),
            direct => (direct, None),
        };
        if let (Some(declared), CallBody::Bytes(bytes)) = (layered, &call.body) {
            let decoded = crate::wire::scoped(
                scope.clone(),
                declared.decode(request(Body::from(bytes.clone()))),
            )
            .instrument(span.clone())
            .await;
            if let Err(error) = decoded {
                return Err(refused(
                    call.function,
                    declared.refusal(error, scope.failure()),
                    &span,
                ));
            }
        }
        let stopped = BodyStop::default();
        let body = match call.body {
            CallBody::Bytes(bytes) => Body::from(bytes),
            CallBody::Stream {
                body,
                limit,
                timeout,
            } => bounded(body, limit, timeout, stopped.clone()),
        };
        // Boxed where it is made: inline, this future (kilobytes) would be
        // copied each time it is wrapped and moved.
        let run = Box::pin(self.run(
            request(body),
            record.clone(),
            call.page,
            scope.clone(),
            direct,
        ));
        let is_query = declared.is_some_and(|d| d.kind() == Kind::Query);
        let (answered, reads) = if is_query {
            let (answered, reads) = crate::wire::tracking_reads(run)
                .instrument(span.clone())
                .await;
            (answered, Some(reads))
        } else {
            (run.instrument(span.clone()).await, None)
        };
        // The streamed body stopped: over its limit, or too slow.
        if let Some(refusal) = stopped.refusal() {
            return Err(refusal);
        }
        let response = match answered {
            Ok(response) => response,
            Err(refusal) => return Err(refused(call.function, refusal, &span)),
        };
        let (mut parts, body) = response.into_parts();
        if parts.status.is_server_error() || parts.status.is_client_error() {
            // A function Tandem has no declaration of: its decoding failed
            // inside server_fn, in the same scope.
            if let Some(failure) = scope.failure() {
                return Err(super::registry::refusal_for(call.function, failure));
            }
        }
        let mut body = answer_bytes(body).await;
        let mut error_id = None;
        if let Some(status) = record.refused() {
            // It refused what was sent (invalid, deny): its status, its
            // issues in the effects.
            parts.status = status;
        } else if parts.status.is_server_error() {
            let failure = unexpected(call.function, &String::from_utf8_lossy(&body));
            body = failure.body;
            if let Some(content_type) = failure.content_type {
                parts.headers.insert(header::CONTENT_TYPE, content_type);
            }
            error_id = Some(failure.id);
        }
        let effects = record.effects();
        self.cache.apply(&effects).await;
        Ok(Ran {
            status: parts.status,
            headers: parts.headers,
            body,
            record,
            effects,
            reads,
            error_id,
        })
    }

    /// Runs the server function `req` names, with `record`, the cache (which
    /// holds the page's path) and the app's context provided, in `scope`: a
    /// function declared to Tandem without server_fn middlewares (`direct`) is
    /// decoded and run by its declaration, its arguments decoded once
    /// (`Err`: they did not decode, and nothing ran); any other through
    /// server_fn's service.
    ///
    /// What `leptos_axum::handle_server_fns_with_context` does for a call
    /// (an owner for it; the request's parts, the response options and the
    /// context provided; the status and headers set through
    /// `ResponseOptions` applied to the answer; the function's middlewares
    /// kept), without what Tandem's calls never need: its redirect of a
    /// browser's form post to the `Referer` (Tandem answers forms itself),
    /// and the page context's CSP nonce (a function renders no page).
    pub(crate) async fn run(
        &self,
        req: Request,
        record: EffectsRecord,
        page: Option<Arc<str>>,
        scope: Arc<CallScope>,
        direct: Option<&'static Declared>,
    ) -> Result<Response, Refusal> {
        use leptos::reactive::computed::ScopedFuture;
        use leptos::reactive::owner::Owner;
        let runner = match direct.filter(|d| d.method() == req.method()) {
            Some(declared) => Runner::Declared(declared),
            None => {
                let service =
                    server_fn::axum::get_server_fn_service(req.uri().path(), req.method().clone());
                let Some(service) = service else {
                    return Ok(super::refusal::UnknownFunction {
                        path: req.uri().path().to_string(),
                    }
                    .into_response());
                };
                Runner::Service(service)
            }
        };
        let (parts, body) = req.into_parts();
        let req = match runner {
            // A declaration decodes from the target, the headers and the
            // body; the extensions stay with the parts in the context
            // (cloning them is a map and a box for each value).
            Runner::Declared(_) => {
                let mut req = Request::new(body);
                *req.method_mut() = parts.method.clone();
                *req.uri_mut() = parts.uri.clone();
                *req.version_mut() = parts.version;
                *req.headers_mut() = parts.headers.clone();
                req
            }
            // server_fn's middlewares see the whole request.
            Runner::Service(_) => Request::from_parts(parts.clone(), body),
        };
        let options = leptos_axum::ResponseOptions::default();
        let owner = Owner::new();
        let call = owner.with(|| {
            provide_context(parts);
            provide_context(options.clone());
            (self.context)();
            provide_context(self.cache.on_page(page));
            provide_context(self.key.clone());
            provide_context(record);
            ScopedFuture::new(async move {
                match runner {
                    Runner::Declared(declared) => {
                        declared.run(req).await.map_err(|e| (declared, e))
                    }
                    Runner::Service(mut service) => Ok(service.run(req).await),
                }
            })
        });
        let answered = crate::wire::scoped(scope.clone(), call).await;
        drop(owner);
        let mut response = match answered {
            Ok(response) => response,
            Err((declared, error)) => return Err(declared.refusal(error, scope.failure())),
        };
        let mut set = options.0.write().unwrap_or_else(|e| e.into_inner());
        if let Some(status) = set.status {
            *response.status_mut() = status;
        }
        response
            .headers_mut()
            .extend(std::mem::take(&mut set.headers));
        Ok(response)
    }

    /// Runs the mounted queries again, in process, as the browser would
    /// call them now: with the cookies the action just set.
    pub(crate) async fn rerun(
        &self,
        queries: &[&MountedQuery],
        headers: &HeaderMap,
        conn: Connection,
        record: &EffectsRecord,
        page: Option<Arc<str>>,
    ) -> Vec<FreshQuery> {
        let cookies = record.cookie_header();
        let form = HeaderValue::from_static("application/x-www-form-urlencoded");
        let runs = queries.iter().map(|query| {
            let mut headers = headers.clone();
            if let Ok(cookies) = HeaderValue::from_str(&cookies) {
                headers.insert(header::COOKIE, cookies);
            }
            let page = page.clone();
            let form = form.clone();
            async move {
                let uri: Uri = query.path.parse().ok()?;
                let ran = self
                    .call(Call {
                        function: &query.path,
                        method: Method::POST,
                        uri,
                        headers: &headers,
                        content_type: Some(form),
                        body: CallBody::Bytes(Bytes::from(query.args.clone())),
                        page,
                        conn,
                    })
                    .await;
                let (status, body, reads) = match ran {
                    Ok(ran) => (ran.status.as_u16(), ran.body, ran.reads),
                    Err(refusal) => {
                        let (_, body) = Declared::find(&query.path)
                            .map(|d| d.encode_error(refusal.to_string()))
                            .unwrap_or(("", Bytes::from(refusal.to_string())));
                        (refusal.status().as_u16(), body, None)
                    }
                };
                Some(FreshQuery {
                    query: (*query).clone(),
                    status,
                    body: WireBody::from(body.to_vec()),
                    reads,
                })
            }
        });
        futures::future::join_all(runs)
            .await
            .into_iter()
            .flatten()
            .collect()
    }
}

/// How [`Pipeline::run`] runs a function.
enum Runner {
    /// By its declaration: decoded once.
    Declared(&'static Declared),
    /// Through server_fn's service (and its middlewares).
    Service(server_fn::middleware::BoxedService<Request, Response>),
}

/// Logs a call refused before its function ran, and gives the refusal back.
fn refused(function: &str, refusal: Refusal, span: &tracing::Span) -> Refusal {
    span.in_scope(|| tracing::info!(function, %refusal, "refused before running"));
    refusal
}

/// A failure nobody expected: the id it is logged with, and what the caller
/// gets instead of its message (in a release build the message stays in
/// the log).
pub(crate) struct Unexpected {
    pub(crate) id: String,
    pub(crate) body: Bytes,
    pub(crate) content_type: Option<HeaderValue>,
}

/// Logs an unexpected failure of `function` (its full `message`) with a
/// new error id, and makes what the caller gets: the function's own error
/// encoding when it is declared, naming the id.
pub(crate) fn unexpected(function: &str, message: &str) -> Unexpected {
    let id = error_id();
    tracing::error!(error_id = %id, function, "tandem: {function} failed unexpectedly: {message}");
    let shown = if cfg!(debug_assertions) {
        format!("{message} (error id {id})")
    } else {
        format!("internal error (error id {id})")
    };
    match Declared::find(function) {
        Some(declared) => {
            let (content_type, body) = declared.encode_error(shown);
            Unexpected {
                id,
                body,
                content_type: Some(HeaderValue::from_static(content_type)),
            }
        }
        None => Unexpected {
            id,
            body: Bytes::from(shown),
            content_type: Some(HeaderValue::from_static("text/plain; charset=utf-8")),
        },
    }
}

/// A new error id: 12 random hex digits.
fn error_id() -> String {
    use chacha20poly1305::aead::rand_core::RngCore;
    let mut bytes = [0u8; 6];
    chacha20poly1305::aead::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Why a streamed body stopped (shared with the stream).
#[derive(Clone, Default)]
struct BodyStop(Arc<std::sync::Mutex<Option<Refusal>>>);

impl BodyStop {
    fn set(&self, refusal: Refusal) {
        if let Ok(mut slot) = self.0.lock() {
            slot.get_or_insert(refusal);
        }
    }

    fn refusal(&self) -> Option<Refusal> {
        self.0.lock().ok().and_then(|slot| slot.clone())
    }
}

/// `body` as a stream that ends in an error past `limit` bytes or after
/// `timeout`, noting which in `stop`.
fn bounded(body: Body, limit: usize, timeout: Duration, stop: BodyStop) -> Body {
    use futures::StreamExt;
    let deadline = tokio::time::Instant::now() + timeout;
    let stream = body.into_data_stream();
    let stream =
        futures::stream::unfold((stream, 0usize, false), move |(mut stream, seen, done)| {
            let stop = stop.clone();
            async move {
                if done {
                    return None;
                }
                let (item, seen) = match tokio::time::timeout_at(deadline, stream.next()).await {
                    Err(_) => {
                        stop.set(
                            BodyTimeout {
                                seconds: timeout.as_secs(),
                            }
                            .into(),
                        );
                        (Err(axum::Error::new("the body took too long")), seen)
                    }
                    Ok(None) => return None,
                    Ok(Some(Err(e))) => (Err(e), seen),
                    Ok(Some(Ok(chunk))) if seen + chunk.len() > limit => {
                        stop.set(BodyTooLarge { limit }.into());
                        drain(&mut stream, deadline).await;
                        (Err(axum::Error::new("the body is over its limit")), seen)
                    }
                    Ok(Some(Ok(chunk))) => {
                        let seen = seen + chunk.len();
                        (Ok(chunk), seen)
                    }
                };
                let done = item.is_err();
                Some((item, (stream, seen, done)))
            }
        });
    Body::from_stream(stream)
}

/// The mounted queries an action's effects touched, on `page`: all of them
/// after `refresh()`, a cookie change, a redirect to the same page or a
/// revalidation of the page itself; otherwise those whose reads the
/// invalidated tags, paths or layouts reach, and those whose reads are not
/// known.
pub(crate) fn touched<'a>(
    named: &'a [Named],
    effects: &Effects,
    page: Option<&str>,
) -> Vec<&'a MountedQuery> {
    if !effects.page_data_changed() && effects.redirect.is_none() {
        return Vec::new();
    }
    let tags: Vec<String> = effects
        .revalidated_tags
        .iter()
        .chain(&effects.updated_tags)
        .cloned()
        .collect();
    let paths = &effects.revalidated_paths;
    let layouts = &effects.revalidated_layouts;
    let whole_page = effects.refresh
        || effects.cookies_changed
        || effects.redirect.is_some()
        || page.is_some_and(|page| Reads(path_tags(page)).touched(&[], paths, layouts));
    named
        .iter()
        .filter(|n| {
            whole_page
                || n.reads
                    .as_ref()
                    .is_none_or(|reads| reads.touched(&tags, paths, layouts))
        })
        .map(|n| &n.query)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(path: &str, reads: Option<&[&str]>) -> Named {
        Named {
            query: MountedQuery {
                path: path.into(),
                args: String::new(),
            },
            reads: reads.map(|r| Reads(r.iter().map(|t| t.to_string()).collect())),
        }
    }

    /// A body sent as `chunks`, one stream item each.
    fn chunked(chunks: &[&'static [u8]]) -> Body {
        let items: Vec<Result<Bytes, std::io::Error>> =
            chunks.iter().map(|c| Ok(Bytes::from_static(c))).collect();
        Body::from_stream(futures::stream::iter(items))
    }

    #[tokio::test]
    async fn an_answer_is_read_whole_in_one_frame_or_many() {
        let one: &'static [u8] = b"{\"total\":7}";
        let kept = answer_bytes(Body::from(Bytes::from_static(one))).await;
        assert_eq!(kept.as_ptr(), one.as_ptr(), "one frame is not copied");
        assert_eq!(answer_bytes(Body::empty()).await, Bytes::new());
        let many = answer_bytes(chunked(&[b"[1,", b"", b"2,3", b"]"])).await;
        assert_eq!(many, Bytes::from("[1,2,3]"));
        let items: Vec<Result<Bytes, std::io::Error>> = vec![
            Ok(Bytes::from_static(b"[1,")),
            Err(std::io::Error::other("reset")),
        ];
        let broken = answer_bytes(Body::from_stream(futures::stream::iter(items))).await;
        assert_eq!(broken, Bytes::new(), "a body that fails is empty, not cut");
    }

    #[tokio::test]
    async fn a_body_is_read_whole_in_order_within_its_limit() {
        let read = |chunks: &[&'static [u8]], limit: usize| {
            read_body(chunked(chunks), limit, Duration::from_secs(5))
        };
        assert_eq!(read(&[], 8).await.unwrap(), Bytes::new());
        assert_eq!(read(&[b"a=1"], 8).await.unwrap(), Bytes::from("a=1"));
        // Kept as it came: the same bytes, not a copy.
        let one: &'static [u8] = b"a=1&b=2";
        let kept = read(&[one], 8).await.unwrap();
        assert_eq!(kept.as_ptr(), one.as_ptr());
        assert_eq!(
            read(&[b"a=", b"", b"1&b", b"=2"], 8).await.unwrap(),
            Bytes::from("a=1&b=2")
        );
        assert_eq!(
            read(&[b"", b"", b"xy"], 8).await.unwrap(),
            Bytes::from("xy")
        );
        assert_eq!(read(&[b"1234", b"5678"], 8).await.unwrap(), "12345678");
        for chunks in [&[b"123456789".as_slice()][..], &[b"1234", b"56789"]] {
            let refused = read(chunks, 8).await.unwrap_err();
            assert_eq!(refused.status(), StatusCode::PAYLOAD_TOO_LARGE);
        }
    }

    #[test]
    fn only_the_queries_an_action_touched_are_read_again() {
        let page = [
            named("/api/get_post", Some(&["post:3", "_path:/posts/3"])),
            named("/api/get_comments", Some(&["comments:3", "_path:/posts/3"])),
            named("/api/get_likes", Some(&[])),
        ];
        let paths = |fx: Effects, page_path: &str| -> Vec<String> {
            touched(&page, &fx, Some(page_path))
                .into_iter()
                .map(|q| q.path.clone())
                .collect()
        };
        let comments = Effects {
            updated_tags: vec!["comments:3".into()],
            ..Effects::default()
        };
        assert_eq!(paths(comments, "/posts/3"), ["/api/get_comments"]);
        let nothing = Effects::default();
        assert!(paths(nothing, "/posts/3").is_empty());
        let refresh = Effects {
            refresh: true,
            ..Effects::default()
        };
        assert_eq!(paths(refresh, "/posts/3").len(), 3);
        // A revalidation of this page reads the whole page again.
        let this_page = Effects {
            revalidated_paths: vec!["/posts/[id]".into()],
            ..Effects::default()
        };
        assert_eq!(paths(this_page.clone(), "/posts/3").len(), 3);
        // Of another page: only what read from it.
        let other = Effects {
            revalidated_paths: vec!["/posts/[id]".into()],
            ..Effects::default()
        };
        assert_eq!(
            paths(other, "/elsewhere"),
            ["/api/get_post", "/api/get_comments"]
        );
        // Unknown reads are read again after any change.
        let unknown = [named("/api/get_x", None)];
        let price = Effects {
            updated_tags: vec!["price".into()],
            ..Effects::default()
        };
        assert_eq!(touched(&unknown, &price, Some("/")).len(), 1);
    }

    #[test]
    fn url_encoded_text_is_checked_strictly() {
        assert!(check_url_encoded(b"").is_ok());
        assert!(check_url_encoded(b"a=1&b=caf%C3%A9+x").is_ok());
        assert!(check_url_encoded(b"a=%").is_err());
        assert!(check_url_encoded(b"a=%4").is_err());
        assert!(check_url_encoded(b"%zz=%G0").is_err());
        // Escapes that spell bytes which are not UTF-8.
        assert!(check_url_encoded(b"a=%C3").is_err());
        assert!(
            check_url_encoded(b"a=%C3&b=%A9").is_err(),
            "fields decode on their own"
        );
    }

    #[test]
    fn subrequests_forward_the_browsers_headers_but_the_bodys_and_tandems() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("a.test"));
        headers.insert(header::ACCEPT, HeaderValue::from_static("text/html"));
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("3"));
        headers.insert(header::COOKIE, HeaderValue::from_static("old=1"));
        headers.insert(QUERIES_HEADER, HeaderValue::from_static("[]"));
        let call = function_request(
            Method::POST,
            Uri::from_static("/api/x"),
            &headers,
            Connection::default(),
            Some(HeaderValue::from_static("application/json")),
            "new=2",
            Body::from("{}"),
        );
        assert_eq!(call.headers()[header::HOST], "a.test");
        assert_eq!(call.headers()[header::COOKIE], "new=2");
        assert_eq!(call.headers()[header::CONTENT_TYPE], "application/json");
        assert!(!call.headers().contains_key(header::ACCEPT));
        assert!(!call.headers().contains_key(header::CONTENT_LENGTH));
        assert!(!call.headers().contains_key(QUERIES_HEADER));
        let page = page_request(
            Uri::from_static("/posts"),
            &headers,
            Connection::default(),
            "",
        );
        assert_eq!(page.headers()[header::ACCEPT], "text/html");
        assert!(!page.headers().contains_key(header::COOKIE));
    }
}
