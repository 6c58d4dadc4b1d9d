//! The server side: Tandem in front of your axum app.
//!
//! [`TandemServer::layer`] sits in front of the whole app, before its
//! router ([`TandemServer::middleware`] is the same as an axum middleware).
//! For every request it first checks the target and the host ([`guard`]); then
//!
//! - a call of a server function goes through the [pipeline](self#the-pipeline)
//!   and is answered with an [`Envelope`](crate::wire::Envelope) for
//!   Tandem's client (the result, the effects, the fresh data of the page),
//!   with the function's own response for other callers, or `303` on a
//!   redirect;
//! - a `<Form>` posted without JavaScript goes through the same pipeline,
//!   then the page is rendered in place with the result (or `303` on a
//!   redirect), with the function's status;
//! - every other request passes to the app; pages get the
//!   [security headers](headers) and a fresh CSP nonce.
//!
//! Functions declared with `#[tandem::server]` / `#[tandem::query]`
//! ([`registry`]) have their bodies checked against their codecs before
//! they run. Serve the app with [`serve()`] for the header-read timeout.
//!
//! ## The pipeline
//!
//! One call, JS or not: the body is read within its limit and time; a
//! declared function's body is checked against its codec; the function
//! runs with an [`EffectsRecord`], the [cache](cache), the page's path and
//! your context, in a tracing span named `server_fn` with its `path`; a
//! failure of Tandem's own argument types becomes its [refusal]; the
//! effects are applied to the cache.
//!
//! ```no_run
//! use axum::Router;
//! use leptos::prelude::*;
//! use leptos_axum::{generate_route_list, LeptosRoutes};
//!
//! # #[component] fn App() -> impl IntoView { () }
//! # fn shell(_: LeptosOptions) -> impl IntoView { view! { <App/> } }
//! # async fn run() -> std::io::Result<()> {
//! let options = get_configuration(None).unwrap().leptos_options;
//! let tandem = tandem::TandemServer::new(|| { /* provide_context(store.clone()) */ });
//! let pages = Router::new()
//!     .leptos_routes_with_context(&options, generate_route_list(App), tandem.page_context(), {
//!         let options = options.clone();
//!         move || shell(options.clone())
//!     })
//!     .with_state(options.clone());
//! // Tandem sits in front of the whole app.
//! let app = tower::Layer::layer(&tandem.layer(), pages);
//! let listener = tokio::net::TcpListener::bind(options.site_addr).await?;
//! tandem::serve(listener, app).await
//! # }
//! ```

pub mod bind;
pub mod cache;
mod call;
mod coarse_timer;
pub mod cookies;
pub mod guard;
pub mod headers;
pub mod layer;
pub mod limit;
pub mod multipart;
mod pipeline;
pub mod record;
pub mod refusal;
pub mod registry;
pub mod serve;

pub use bind::{seal, BindError, BindKey};
pub use cache::{cache, Cache, CacheConfigError};
pub use cookies::CookieOptions;
pub use guard::Guard;
pub use headers::SecurityHeaders;
pub use layer::{Tandem, TandemLayer};
pub use record::{
    cookies, deny, invalid, redirect, refresh, revalidate_layout, revalidate_path, revalidate_tag,
    update_tag, Cookies, Denied, EffectsRecord, Invalid, Redirect,
};
pub use refusal::Refusal;
pub use registry::{Declared, Kind};
pub use serve::{serve, Serve};

use crate::wire::{
    decode_queries, path_of, without_sensitive, Body as WireBody, Envelope, FormPost, FreshQuery,
    Named, Rendered, SubmittedAction, ACTION_FIELD, ENVELOPE_CONTENT_TYPE, FORM_KEY_FIELD,
    PAGE_DATA_SCRIPT_ID, PAGE_HEADER, QUERIES_HEADER, TANDEM_HEADER,
};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use cookies::cookie_header;
use futures::{FutureExt, StreamExt};
use http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use layer::App;
use leptos::nonce::Nonce;
use pipeline::{page_request, read_body, unexpected, Call, CallBody, Connection, Pipeline, Ran};
use refusal::{BadQueries, BodyTooLarge, MethodNotAllowed, UnknownFunction};
use std::sync::Arc;

/// Tandem's request headers as names: a `&str` is parsed into a name at
/// each lookup.
static PAGE: HeaderName = HeaderName::from_static(PAGE_HEADER);
static TANDEM: HeaderName = HeaderName::from_static(TANDEM_HEADER);
static QUERIES: HeaderName = HeaderName::from_static(QUERIES_HEADER);

/// Runs server functions with Tandem's effects (see the [module docs](self)).
/// Cheap to clone.
///
/// ```no_run
/// let tandem = tandem::TandemServer::new(|| {});
/// ```
#[derive(Clone)]
pub struct TandemServer {
    pipeline: Pipeline,
    /// Every registered server function: path → method (a fixed set of
    /// keys, so Fx rather than SipHash).
    functions: Arc<rustc_hash::FxHashMap<&'static str, Method>>,
    guard: Arc<Guard>,
    headers: Arc<SecurityHeaders>,
}

/// Why [`TandemServer::try_new`] refused the environment's configuration.
///
/// ```
/// let e = tandem::ConfigError::from(tandem::BindError::MissingSecret);
/// assert!(e.to_string().contains("TANDEM_SECRET"));
/// ```
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// `TANDEM_SECRET` is missing or unusable.
    #[error(transparent)]
    Secret(#[from] BindError),
    /// `TANDEM_CACHE_URL` is unusable.
    #[error(transparent)]
    Cache(#[from] CacheConfigError),
    /// A function declared as a query does not read URL-encoded
    /// arguments, so it cannot be read again by its mounted arguments.
    #[error("{0} is declared with #[tandem::query] but does not read URL-encoded arguments (leave `input` at its default)")]
    QueryCodec(&'static str),
}

/// Where server functions live (server_fn's default prefix): unknown paths
/// under it get `404`.
pub const SERVER_FN_PREFIX: &str = "/api/";

impl TandemServer {
    /// A server whose functions also get what `context` provides (your
    /// store, configuration…), as in `handle_server_fns_with_context`.
    ///
    /// ```no_run
    /// use leptos::prelude::provide_context;
    /// let tandem = tandem::TandemServer::new(|| provide_context(42u32));
    /// ```
    ///
    /// # Panics
    ///
    /// When the configuration is refused (see [`TandemServer::try_new`],
    /// which returns the error instead).
    pub fn new(context: impl Fn() + Send + Sync + 'static) -> Self {
        match Self::try_new(context) {
            Ok(server) => server,
            Err(e) => panic!("{e}"),
        }
    }

    /// A server, or why the configuration does not allow one: a release
    /// build needs `TANDEM_SECRET` (the key of bound arguments), and
    /// `TANDEM_CACHE_URL`, when set, must name a store Tandem has (see
    /// [`Cache::from_env`]).
    ///
    /// ```no_run
    /// # #[tokio::main] async fn main() {
    /// let tandem = tandem::TandemServer::try_new(|| {}).expect("configuration");
    /// # }
    /// ```
    pub fn try_new(context: impl Fn() + Send + Sync + 'static) -> Result<Self, ConfigError> {
        if let Some(query) = Declared::all().find(|d| d.kind() == Kind::Query && !d.url_encoded()) {
            return Err(ConfigError::QueryCodec(query.path()));
        }
        Ok(Self {
            pipeline: Pipeline {
                context: Arc::new(context),
                cache: Cache::from_env()?,
                key: BindKey::from_env()?,
            },
            functions: Arc::new(server_fn::axum::server_fn_paths().collect()),
            guard: Arc::new(Guard::from_env()),
            headers: Arc::new(SecurityHeaders::default()),
        })
    }

    /// Seals bound arguments with `key` instead of `TANDEM_SECRET`'s.
    ///
    /// ```
    /// let tandem = tandem::TandemServer::new(|| {}).with_key(tandem::BindKey::generate());
    /// ```
    pub fn with_key(mut self, key: BindKey) -> Self {
        self.pipeline.key = key;
        self
    }

    /// Uses these checks instead of [`Guard::from_env`].
    ///
    /// ```no_run
    /// let tandem = tandem::TandemServer::new(|| {})
    ///     .with_guard(tandem::Guard::default().allow_origin("https://admin.example.com"));
    /// ```
    pub fn with_guard(mut self, guard: Guard) -> Self {
        self.guard = Arc::new(guard);
        self
    }

    /// Sends these security headers on pages instead of the default ones.
    ///
    /// ```no_run
    /// let tandem = tandem::TandemServer::new(|| {})
    ///     .with_security_headers(tandem::server::SecurityHeaders::none());
    /// ```
    pub fn with_security_headers(mut self, headers: SecurityHeaders) -> Self {
        self.headers = Arc::new(headers);
        self
    }

    /// Uses `cache` (its store) instead of the default in-memory one.
    ///
    /// ```no_run
    /// use tandem::server::cache::{Cache, MemoryStore};
    /// let tandem = tandem::TandemServer::new(|| {}).with_cache(Cache::new(MemoryStore::new(1000)));
    /// ```
    pub fn with_cache(mut self, cache: Cache) -> Self {
        self.pipeline.cache = cache;
        self
    }

    /// The context for rendering pages: the app's, plus Tandem's cache, the
    /// key of bound arguments, and the page's CSP nonce. Pass it to
    /// `leptos_routes_with_context`.
    ///
    /// ```no_run
    /// let tandem = tandem::TandemServer::new(|| {});
    /// let context = tandem.page_context();
    /// ```
    pub fn page_context(&self) -> impl Fn() + Clone + Send + Sync + 'static {
        self.pipeline.page_context()
    }

    /// Tandem as a tower layer, to put around the whole app (see the
    /// [module docs](self)): a call skips the app's router.
    ///
    /// ```no_run
    /// use tower::Layer;
    /// # async fn run() -> std::io::Result<()> {
    /// # let pages: axum::Router = axum::Router::new();
    /// let app = tandem::TandemServer::new(|| {}).layer().layer(pages);
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    /// tandem::serve(listener, app).await
    /// # }
    /// ```
    pub fn layer(&self) -> TandemLayer {
        TandemLayer::new(self.clone())
    }

    /// Tandem as an axum middleware (`from_fn_with_state`), for an app that
    /// puts it among its own middlewares. [`layer`](Self::layer) does the
    /// same with less work per call: a middleware inside a router runs after
    /// the router has matched the request and boxed its route.
    ///
    /// ```no_run
    /// # let pages: axum::Router = axum::Router::new();
    /// let app: axum::Router = axum::Router::new().fallback_service(pages).layer(
    ///     axum::middleware::from_fn_with_state(
    ///         tandem::TandemServer::new(|| {}),
    ///         tandem::TandemServer::middleware,
    ///     ),
    /// );
    /// ```
    pub async fn middleware(
        State(server): State<TandemServer>,
        req: Request,
        next: Next,
    ) -> Response {
        server.handle(req, move || App::new(next)).await
    }

    /// One request, answered by Tandem or passed to the app `app` makes.
    pub(crate) async fn handle(&self, req: Request, app: impl FnOnce() -> App) -> Response {
        let local = Connection::of(req.extensions()).local();
        if let Err(refusal) = self.guard.check_target(req.uri(), req.headers(), local) {
            return refusal.into_response();
        }
        // Each branch's future is boxed: a page render's future is tens of
        // kilobytes, and inline it would make every call's future as large
        // (copied whole each time it moves: a fifth of a call's CPU time,
        // measured with callgrind).
        // A function's path is the map's own `&'static str`: not copied.
        let function = self.functions.get_key_value(req.uri().path());
        let mut response = if let Some((&function, method)) = function {
            Box::pin(self.answer_call(req, function, method.clone(), app)).await
        } else {
            let path = req.uri().path().to_string();
            if path.starts_with(SERVER_FN_PREFIX) {
                UnknownFunction { path }.into_response()
            } else if is_form_post(&req) {
                rendered(&path, Box::pin(self.answer_form(req, app()))).await
            } else {
                rendered(&path, Box::pin(self.answer_page(req, app()))).await
            }
        };
        self.headers.apply_nosniff(response.headers_mut());
        response
    }

    /// A call of the server function at `path`, the request's path.
    async fn answer_call(
        &self,
        req: Request,
        path: &'static str,
        method: Method,
        app: impl FnOnce() -> App,
    ) -> Response {
        if req.method() != method {
            return MethodNotAllowed {
                path: path.to_string(),
                allowed: method,
            }
            .into_response();
        }
        if let Err(refusal) = self
            .guard
            .check_origin(req.headers())
            .and_then(|_| self.guard.check_body_headers(path, req.headers()))
        {
            return refusal.into_response();
        }
        let (parts, body) = req.into_parts();
        let limit = self.guard.limit_for(path);
        let timeout = self.guard.body_timeout_value();
        // A form with files streams to the function; any other body is read
        // whole first.
        let streamed = Declared::find(path).is_some_and(Declared::multipart);
        let body = if streamed {
            CallBody::Stream {
                body,
                limit,
                timeout,
            }
        } else {
            match read_body(body, limit, timeout).await {
                Ok(body) => CallBody::Bytes(body),
                Err(refusal) => return refusal.into_response(),
            }
        };
        let mounted = match mounted_queries(&parts.headers) {
            Ok(m) => m,
            Err(refusal) => return refusal.into_response(),
        };
        let page: Option<Arc<str>> = parts
            .headers
            .get(&PAGE)
            .and_then(|v| v.to_str().ok())
            .map(Arc::from);
        let conn = Connection::of(&parts.extensions);
        let call = Call {
            function: path,
            method,
            uri: parts.uri.clone(),
            headers: &parts.headers,
            content_type: parts.headers.get(header::CONTENT_TYPE).cloned(),
            body,
            page: page.clone(),
            conn,
        };
        let speaks_envelope = parts.headers.contains_key(&TANDEM);
        let ran = match caught(self.pipeline.call(call)).await {
            Ok(Ok(ran)) => ran,
            Ok(Err(refusal)) => return refused(path, refusal),
            Err(panic) => {
                // A panic is an unexpected failure like any other: logged
                // with an id, its message kept from the caller.
                let failure = unexpected(path, &format!("panicked: {panic}"));
                let mut headers = HeaderMap::new();
                if let Some(content_type) = failure.content_type {
                    headers.insert(header::CONTENT_TYPE, content_type);
                }
                Ran {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    headers,
                    body: failure.body,
                    record: EffectsRecord::new(""),
                    effects: Default::default(),
                    reads: None,
                    error_id: Some(failure.id),
                }
            }
        };
        let Ran {
            status,
            mut headers,
            body,
            record,
            effects,
            reads,
            error_id,
        } = ran;
        append_cookies(&mut headers, &record);
        if speaks_envelope {
            let stays = match (&effects.redirect, &page) {
                (None, _) => true,
                (Some(to), Some(page)) => path_of(to) == &**page,
                (Some(_), None) => false,
            };
            let queries = match &effects.redirect {
                // Fresh data for the page the browser stays on: the queries
                // the action touched.
                _ if stays => {
                    let touched = pipeline::touched(&mounted, &effects, page.as_deref());
                    if touched.is_empty() {
                        Vec::new()
                    } else {
                        Box::pin(
                            self.pipeline
                                .rerun(&touched, &parts.headers, conn, &record, page),
                        )
                        .await
                    }
                }
                // Another page of the app: the data it mounts, found by
                // rendering it.
                Some(to) => {
                    Box::pin(self.queries_of(to, &parts.headers, conn, &record, app())).await
                }
                None => Vec::new(),
            };
            let envelope = Envelope {
                status: status.as_u16(),
                body: WireBody::from(body.to_vec()),
                effects,
                queries,
                reads,
                error_id,
            };
            let json = match serde_json::to_vec(&envelope) {
                Ok(j) => j,
                Err(e) => return internal_error(format!("encoding the envelope: {e}")),
            };
            headers.remove(header::CONTENT_LENGTH);
            headers.remove(header::LOCATION);
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(ENVELOPE_CONTENT_TYPE),
            );
            let mut response = Response::new(Body::from(json));
            *response.headers_mut() = headers;
            return response;
        }
        if let Some(to) = effects.redirect {
            return see_other(&to, headers);
        }
        let mut response = Response::new(Body::from(body));
        *response.status_mut() = status;
        *response.headers_mut() = headers;
        response
    }

    /// A `POST` of a Tandem `<Form>` to a page (a browser without
    /// JavaScript): runs the form's server function through the pipeline,
    /// then answers `303` if it redirected, or renders the page at the same
    /// URL with the result, and the function's status. A form with files
    /// (`multipart/form-data`) streams to its function: the function it
    /// names is found in the body's first part.
    async fn answer_form(&self, req: Request, next: App) -> Response {
        if let Err(refusal) = self.guard.check_origin(req.headers()) {
            return refusal.into_response();
        }
        let (parts, body) = req.into_parts();
        let content_type = parts.headers.get(header::CONTENT_TYPE).cloned();
        let timeout = self.guard.body_timeout_value();
        let multipart = content_type
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .and_then(guard::essence)
            .is_some_and(|e| e == "multipart/form-data");
        let (action, fields, body) = if multipart {
            match self.multipart_action(&parts, body).await {
                Ok(found) => found,
                Err(response) => return response,
            }
        } else {
            let limit = self.guard.limit_for(parts.uri.path());
            let bytes = match read_body(body, limit, timeout).await {
                Ok(bytes) => bytes,
                Err(refusal) => return refusal.into_response(),
            };
            let FormPost { fields, action } = FormPost::decode(&bytes);
            let Some(action) = action else {
                // Not one of ours: let the app's own routes answer.
                return next
                    .run(Request::from_parts(parts, Body::from(bytes)))
                    .await;
            };
            let own_limit = self.guard.limit_for(&action);
            if bytes.len() > own_limit {
                return BodyTooLarge { limit: own_limit }.into_response();
            }
            (action, fields, CallBody::Bytes(bytes))
        };
        let method = self.functions.get(action.as_str());
        let uri = action.parse::<http::Uri>();
        let (Some(&Method::POST), Ok(uri)) = (method, uri) else {
            return UnknownFunction { path: action }.into_response();
        };
        let conn = Connection::of(&parts.extensions);
        let call = Call {
            function: &action,
            method: Method::POST,
            uri,
            headers: &parts.headers,
            content_type,
            body,
            page: Some(Arc::from(parts.uri.path())),
            conn,
        };
        let submitted = match caught(self.pipeline.call(call)).await {
            Ok(Ok(ran)) => {
                if let Some(to) = &ran.effects.redirect {
                    let mut headers = HeaderMap::new();
                    append_cookies(&mut headers, &ran.record);
                    return see_other(to, headers);
                }
                // A multipart form's fields are noted as its function reads
                // them.
                let fields = if multipart {
                    ran.record.submitted()
                } else {
                    fields
                };
                Submitted {
                    status: ran.status,
                    body: ran.body,
                    issues: ran.effects.issues.clone(),
                    error_id: ran.error_id,
                    fields,
                    record: Some(ran.record),
                }
            }
            Ok(Err(refusal)) => {
                let status = refusal.status();
                let body = match Declared::find(&action) {
                    Some(declared) => declared.encode_error(refusal.to_string()).1,
                    None => Bytes::from(refusal.to_string()),
                };
                Submitted {
                    status,
                    body,
                    issues: None,
                    error_id: None,
                    fields,
                    record: None,
                }
            }
            Err(panic) => {
                let failure = unexpected(&action, &format!("panicked: {panic}"));
                Submitted {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    body: failure.body,
                    issues: None,
                    error_id: Some(failure.id),
                    fields,
                    record: None,
                }
            }
        };

        // Render the page at the same URL, seeing the cookies the function
        // set, with its result in place.
        let cookies = match &submitted.record {
            Some(record) => record.cookie_header(),
            None => cookie_header(&parts.headers).to_string(),
        };
        let mut page = page_request(parts.uri.clone(), &parts.headers, conn, &cookies);
        let status = submitted.status;
        page.extensions_mut().insert(SubmittedAction {
            action,
            status: status.as_u16(),
            body: String::from_utf8_lossy(&submitted.body).into_owned(),
            fields: without_sensitive(submitted.fields),
            issues: submitted.issues,
            error_id: submitted.error_id,
        });
        let mut response = self.answer_page(page, next).await;
        if let Some(record) = &submitted.record {
            append_cookies(response.headers_mut(), record);
        }
        // The function's status, so a refused post is not a 200.
        if status.is_client_error() || status.is_server_error() {
            *response.status_mut() = status;
        }
        // The page must not be cached as the page's plain GET.
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }

    /// The function a multipart form names (in its first parts), and its
    /// body to stream to it: what was read to find the name, then the rest.
    async fn multipart_action(
        &self,
        parts: &http::request::Parts,
        body: Body,
    ) -> Result<(String, Vec<(String, String)>, CallBody), Response> {
        use futures::StreamExt;
        /// How much of the body may be read to find the function's name.
        const PREFIX: usize = 16 * 1024;
        let boundary = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|ct| multer::parse_boundary(ct).ok())
            .ok_or_else(|| {
                refusal::MalformedBody {
                    reason: "a multipart body without a boundary in its content type".into(),
                }
                .into_response()
            })?;
        let timeout = self.guard.body_timeout_value();
        let deadline = tokio::time::Instant::now() + timeout;
        let mut stream = body.into_data_stream();
        let mut prefix = bytes::BytesMut::new();
        let action = loop {
            if let Some(action) = multipart::field_in_prefix(&prefix, &boundary, ACTION_FIELD) {
                break action;
            }
            if prefix.len() >= PREFIX {
                return Err(refusal::MalformedBody {
                    reason: format!("no {ACTION_FIELD} field in the first {PREFIX} bytes"),
                }
                .into_response());
            }
            match tokio::time::timeout_at(deadline, stream.next()).await {
                Err(_) => {
                    return Err(refusal::BodyTimeout {
                        seconds: timeout.as_secs(),
                    }
                    .into_response())
                }
                Ok(Some(Ok(chunk))) => prefix.extend_from_slice(&chunk),
                Ok(Some(Err(e))) => {
                    return Err(refusal::MalformedBody {
                        reason: e.to_string(),
                    }
                    .into_response())
                }
                Ok(None) => {
                    return Err(refusal::MalformedBody {
                        reason: format!("no {ACTION_FIELD} field in the form"),
                    }
                    .into_response())
                }
            }
        };
        let key = multipart::field_in_prefix(&prefix, &boundary, FORM_KEY_FIELD);
        let mut fields = vec![(ACTION_FIELD.to_string(), action.clone())];
        if let Some(key) = key {
            fields.push((FORM_KEY_FIELD.to_string(), key));
        }
        let rest = futures::stream::once(async move { Ok::<_, axum::Error>(prefix.freeze()) })
            .chain(stream);
        let body = CallBody::Stream {
            body: Body::from_stream(rest),
            limit: self.guard.limit_for(&action),
            timeout,
        };
        Ok((action, fields, body))
    }

    /// The queries the page at `to` mounts, with their data, as the browser
    /// would read them after the action: the page is rendered in process
    /// (with the action's cookies) and each query it reads noted.
    async fn queries_of(
        &self,
        to: &str,
        headers: &HeaderMap,
        conn: Connection,
        record: &EffectsRecord,
        next: App,
    ) -> Vec<FreshQuery> {
        let own_path = to.starts_with('/') && !to.starts_with("//");
        let Some(uri) = own_path.then(|| to.parse::<http::Uri>().ok()).flatten() else {
            return Vec::new();
        };
        let mut page = page_request(uri, headers, conn, &record.cookie_header());
        let rendered = Rendered::default();
        page.extensions_mut().insert(rendered.clone());
        let response = next.run(page).await;
        // The page is rendered whole once its body is read.
        let _ = axum::body::to_bytes(response.into_body(), usize::MAX).await;
        rendered.take()
    }

    /// Any other request: the app answers; a page gets a fresh nonce, the
    /// security headers, and, at its end, what its queries read.
    async fn answer_page(&self, mut req: Request, next: App) -> Response {
        let nonce = self.headers.wants_nonce().then(Nonce::new);
        if let Some(nonce) = &nonce {
            req.extensions_mut().insert(nonce.clone());
        }
        let rendered = Rendered::default();
        req.extensions_mut().insert(rendered.clone());
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_string);
        let mut response = next.run(req).await;
        let is_html = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("text/html"));
        if is_html {
            self.headers
                .apply(response.headers_mut(), nonce.as_ref(), host.as_deref());
            response = with_page_data(response, rendered, nonce);
        }
        response
    }
}

/// What a post without JavaScript came to, for the page rendered after it.
struct Submitted {
    status: StatusCode,
    body: Bytes,
    issues: Option<crate::wire::Issues>,
    error_id: Option<String>,
    fields: Vec<(String, String)>,
    record: Option<EffectsRecord>,
}

/// The page with, after its end, its queries' data and what each one read
/// (a JSON data block the browser reads; see
/// [`PAGE_DATA_SCRIPT_ID`](crate::wire::PAGE_DATA_SCRIPT_ID)). It is
/// written once the page's body is done, when every query has run.
fn with_page_data(response: Response, rendered: Rendered, nonce: Option<Nonce>) -> Response {
    let (mut parts, body) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let trailer = futures::stream::once(async move {
        let json = serde_json::to_string(&rendered.take()).unwrap_or_else(|_| "[]".into());
        // Nothing in the data can end the element.
        let json = json
            .replace('<', "\\u003c")
            .replace('>', "\\u003e")
            .replace('&', "\\u0026");
        let nonce = nonce.map(|n| format!(" nonce=\"{n}\"")).unwrap_or_default();
        Ok::<_, axum::Error>(Bytes::from(format!(
            "<script type=\"application/json\" id=\"{PAGE_DATA_SCRIPT_ID}\"{nonce}>{json}</script>"
        )))
    });
    let stream = body.into_data_stream().chain(trailer);
    Response::from_parts(parts, Body::from_stream(stream))
}

/// Whether a request is a form post to a page: `POST` with a URL-encoded or
/// multipart body (its content type parsed, not prefix-matched).
fn is_form_post(req: &Request) -> bool {
    req.method() == Method::POST
        && req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(guard::media_type)
            .is_some_and(|media| {
                media.eq_ignore_ascii_case("application/x-www-form-urlencoded")
                    || media.eq_ignore_ascii_case("multipart/form-data")
            })
}

/// The queries a request names, checked: one header at most, at most
/// [`MAX_QUERIES`](crate::wire::MAX_QUERIES), each a declared query.
fn mounted_queries(headers: &HeaderMap) -> Result<Vec<Named>, BadQueries> {
    let mut values = headers.get_all(&QUERIES).iter();
    let Some(value) = values.next() else {
        return Ok(Vec::new());
    };
    if values.next().is_some() {
        return Err(BadQueries {
            reason: "the header is repeated; send one list".into(),
        });
    }
    let queries = decode_queries(value.as_bytes()).map_err(|e| BadQueries {
        reason: e.to_string(),
    })?;
    if let Some(not_a_query) = queries
        .iter()
        .find(|q| Declared::find(&q.query.path).map(Declared::kind) != Some(Kind::Query))
    {
        return Err(BadQueries {
            reason: format!(
                "{:?} is not a declared query (#[tandem::query]); only queries may be read again",
                not_a_query.query.path
            ),
        });
    }
    Ok(queries)
}

/// A refusal of a call: in the function's own error encoding when it is
/// declared (so its client decodes it like any error of the function),
/// else as text.
fn refused(function: &str, refusal: Refusal) -> Response {
    let Some(declared) = Declared::find(function) else {
        return refusal.into_response();
    };
    let status = refusal.status();
    let allow = match &refusal {
        Refusal::MethodNotAllowed(m) => HeaderValue::from_str(m.allowed.as_str()).ok(),
        _ => None,
    };
    let (content_type, body) = declared.encode_error(refusal.to_string());
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Some(allow) = allow {
        response.headers_mut().insert(header::ALLOW, allow);
    }
    response
}

/// Runs `call`, turning a panic into its message.
async fn caught<T>(call: impl std::future::Future<Output = T>) -> Result<T, String> {
    std::panic::AssertUnwindSafe(call)
        .catch_unwind()
        .await
        .map_err(|panic| {
            panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default()
        })
}

/// A page's answer, or `500` with an error id (logged with the panic's
/// message) when rendering it panicked: a bug in a view must not drop the
/// connection without an answer.
async fn rendered(path: &str, page: impl std::future::Future<Output = Response>) -> Response {
    match caught(page).await {
        Ok(response) => response,
        Err(panic) => {
            let failure = unexpected(path, &format!("panicked while rendering: {panic}"));
            let mut response = Response::new(Body::from(failure.body));
            *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            if let Some(content_type) = failure.content_type {
                response
                    .headers_mut()
                    .insert(header::CONTENT_TYPE, content_type);
            }
            response
        }
    }
}

fn append_cookies(headers: &mut HeaderMap, record: &EffectsRecord) {
    for cookie in record.set_cookie_headers() {
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            headers.append(header::SET_COOKIE, v);
        }
    }
}

fn see_other(to: &str, mut headers: HeaderMap) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    headers.remove(header::CONTENT_LENGTH);
    headers.remove(header::CONTENT_TYPE);
    match HeaderValue::from_str(to) {
        Ok(location) => {
            headers.insert(header::LOCATION, location);
        }
        Err(_) => return internal_error(format!("redirect target {to:?} is not a valid header")),
    }
    *response.headers_mut() = headers;
    response
}

fn internal_error(message: String) -> Response {
    tracing::error!("tandem: {message}");
    (StatusCode::INTERNAL_SERVER_ERROR, message).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Bound;
    use leptos::prelude::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tower::ServiceExt;

    static RUNS: AtomicUsize = AtomicUsize::new(0);

    #[server(endpoint = "tandem_test_panics")]
    pub(crate) async fn tandem_test_panics() -> Result<(), ServerFnError> {
        panic!("boom in a server function")
    }

    #[tandem::server(endpoint = "tandem_test_ok")]
    pub(crate) async fn tandem_test_ok() -> Result<i32, ServerFnError> {
        RUNS.fetch_add(1, Ordering::SeqCst);
        Ok(7)
    }

    #[tandem::server(endpoint = "tandem_test_args")]
    pub(crate) async fn tandem_test_args(
        title: String,
        count: i32,
    ) -> Result<String, ServerFnError> {
        RUNS.fetch_add(1, Ordering::SeqCst);
        Ok(format!("{title}{count}"))
    }

    #[tandem::server(endpoint = "tandem_test_json", input = server_fn::codec::Json)]
    pub(crate) async fn tandem_test_json(n: i32) -> Result<i32, ServerFnError> {
        RUNS.fetch_add(1, Ordering::SeqCst);
        Ok(n)
    }

    #[tandem::server(endpoint = "tandem_test_bound")]
    pub(crate) async fn tandem_test_bound(id: Bound<i64>) -> Result<i64, ServerFnError> {
        RUNS.fetch_add(1, Ordering::SeqCst);
        Ok(id.into_inner())
    }

    static DECODES: AtomicUsize = AtomicUsize::new(0);

    /// A number that counts how often it is decoded.
    #[derive(Clone, Debug, serde::Serialize)]
    pub(crate) struct Counted(i32);

    impl<'de> serde::Deserialize<'de> for Counted {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            DECODES.fetch_add(1, Ordering::SeqCst);
            i32::deserialize(d).map(Counted)
        }
    }

    #[tandem::server(endpoint = "tandem_test_counted")]
    pub(crate) async fn tandem_test_counted(n: Counted) -> Result<i32, ServerFnError> {
        Ok(n.0 + 1)
    }

    static LAYERED: AtomicUsize = AtomicUsize::new(0);

    /// A server_fn middleware's work: counts the requests it sees.
    fn note_layered(request: Request) -> Request {
        LAYERED.fetch_add(1, Ordering::SeqCst);
        request
    }

    #[tandem::server(endpoint = "tandem_test_layered")]
    #[middleware(tower::util::MapRequestLayer::new(note_layered as fn(Request) -> Request))]
    pub(crate) async fn tandem_test_layered(n: Counted) -> Result<i32, ServerFnError> {
        Ok(n.0 + 1)
    }

    static PAGE_READS: AtomicUsize = AtomicUsize::new(0);

    /// A read through the cache: how many times it ran.
    #[tandem::server(endpoint = "tandem_test_page_read")]
    pub(crate) async fn tandem_test_page_read() -> Result<usize, ServerFnError> {
        crate::cache("tandem_test_page_read", &[], || async {
            Ok::<_, ServerFnError>(PAGE_READS.fetch_add(1, Ordering::SeqCst) + 1)
        })
        .await
    }

    #[tandem::server(endpoint = "tandem_test_revalidate")]
    pub(crate) async fn tandem_test_revalidate(path: String) -> Result<(), ServerFnError> {
        crate::revalidate_path(path);
        Ok(())
    }

    #[tandem::query(endpoint = "tandem_test_read")]
    pub(crate) async fn tandem_test_read() -> Result<i32, ServerFnError> {
        Ok(1)
    }

    /// What a function reaches through Leptos's context: the request's
    /// parts, the response options, the app's own context.
    #[tandem::server(endpoint = "tandem_test_context")]
    pub(crate) async fn tandem_test_context() -> Result<String, ServerFnError> {
        let parts = use_context::<http::request::Parts>()
            .ok_or_else(|| ServerFnError::new("no request parts"))?;
        let app = use_context::<AppValue>().ok_or_else(|| ServerFnError::new("no app context"))?;
        let options = use_context::<leptos_axum::ResponseOptions>()
            .ok_or_else(|| ServerFnError::new("no response options"))?;
        options.set_status(StatusCode::ACCEPTED);
        options.insert_header(
            http::HeaderName::from_static("x-set-by-function"),
            HeaderValue::from_static("yes"),
        );
        Ok(format!("{} {}", parts.uri.path(), app.0))
    }

    #[derive(Clone)]
    struct AppValue(&'static str);

    fn app() -> axum::Router {
        app_with(|| {})
    }

    /// The app in front of nothing, with `context` as the app's context.
    fn app_with(context: impl Fn() + Send + Sync + 'static) -> axum::Router {
        let server =
            TandemServer::new(context).with_guard(Guard::default().allow_host("site.test"));
        axum::Router::new()
            .fallback_service(axum::Router::new())
            .layer(axum::middleware::from_fn_with_state(
                server,
                TandemServer::middleware,
            ))
    }

    #[tokio::test]
    async fn a_page_whose_render_panics_is_a_500_with_an_error_id() {
        let server = TandemServer::new(|| {}).with_guard(Guard::default().allow_host("site.test"));
        let app = axum::Router::new()
            .fallback(|| async {
                if RUNS.load(Ordering::SeqCst) < usize::MAX {
                    panic!("the view is broken");
                }
                "never"
            })
            .layer(axum::middleware::from_fn_with_state(
                server,
                TandemServer::middleware,
            ));
        let request = Request::builder()
            .uri("/broken")
            .header(header::HOST, "site.test")
            .body(Body::empty())
            .expect("request");
        let response = app
            .oneshot(request)
            .await
            .expect("an answer, not a dropped connection");
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .expect("body");
        let body = String::from_utf8_lossy(&body);
        assert!(
            body.contains("error id "),
            "names the logged error id: {body}"
        );
    }

    fn post_with(path: &str, content_type: &str, body: &'static str) -> Request {
        Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::HOST, "site.test")
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .expect("request")
    }

    fn post(path: &str) -> Request {
        post_with(path, "application/x-www-form-urlencoded", "")
    }

    /// Requests in these tests run one at a time, so that "nothing ran"
    /// is about the request under test only.
    static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

    async fn answer(request: Request) -> (StatusCode, String) {
        let _turn = ONE_AT_A_TIME.lock().await;
        answer_now(request).await
    }

    async fn answer_now(request: Request) -> (StatusCode, String) {
        let response = app().oneshot(request).await.expect("call");
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .expect("body");
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    /// Runs `request` and checks its status, and that no declared function
    /// ran.
    async fn refused(request: Request, status: u16) -> String {
        let _turn = ONE_AT_A_TIME.lock().await;
        let before = RUNS.load(Ordering::SeqCst);
        let (got, body) = answer_now(request).await;
        assert_eq!(got.as_u16(), status, "{body}");
        assert_eq!(RUNS.load(Ordering::SeqCst), before, "nothing ran: {body}");
        body
    }

    #[tokio::test]
    async fn a_function_gets_the_request_the_apps_context_and_sets_its_answer() {
        let response = app_with(|| provide_context(AppValue("app")))
            .oneshot(post("/api/tandem_test_context"))
            .await
            .expect("call");
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        assert_eq!(
            response.headers().get("x-set-by-function"),
            Some(&HeaderValue::from_static("yes"))
        );
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .expect("body");
        assert_eq!(&body[..], br#""/api/tandem_test_context app""#);
    }

    /// What a function reads through the cache belongs to the page the
    /// call was made from (`x-tandem-page`): revalidating that page's path
    /// reads it again, another page's does not.
    #[tokio::test]
    async fn a_calls_reads_belong_to_the_page_it_was_made_from() {
        let app = app();
        let from_shelf = |path: &str, body: &'static str| {
            let mut request = post_with(path, "application/x-www-form-urlencoded", body);
            request
                .headers_mut()
                .insert(PAGE_HEADER, HeaderValue::from_static("/shelf"));
            request
        };
        let answer = |request: Request| {
            let app = app.clone();
            async move {
                let response = app.oneshot(request).await.expect("call");
                let status = response.status();
                let body = axum::body::to_bytes(response.into_body(), 1 << 20)
                    .await
                    .expect("body");
                assert_eq!(status, StatusCode::OK, "{body:?}");
                String::from_utf8_lossy(&body).into_owned()
            }
        };
        let read = || answer(from_shelf("/api/tandem_test_page_read", ""));
        let first: usize = read().await.parse().expect("a count");
        assert_eq!(read().await, first.to_string(), "cached");
        answer(from_shelf(
            "/api/tandem_test_revalidate",
            "path=%2Felsewhere",
        ))
        .await;
        assert_eq!(read().await, first.to_string(), "another page's path");
        answer(from_shelf("/api/tandem_test_revalidate", "path=%2Fshelf")).await;
        assert_eq!(read().await, (first + 1).to_string(), "its page's path");
    }

    /// The client knows an envelope by its `200` (see `wire::envelope`):
    /// whatever the function's own status, the envelope carries it inside.
    #[tokio::test]
    async fn an_envelope_is_a_200_with_the_functions_status_inside() {
        for (path, inside) in [
            ("/api/tandem_test_ok", 200),
            ("/api/tandem_test_context", 202),
            ("/api/tandem_test_panics", 500),
        ] {
            let mut request = post(path);
            request
                .headers_mut()
                .insert(TANDEM_HEADER, HeaderValue::from_static("1"));
            let response = app_with(|| provide_context(AppValue("app")))
                .oneshot(request)
                .await
                .expect("call");
            let status = response.status();
            let body = axum::body::to_bytes(response.into_body(), 1 << 20)
                .await
                .expect("body");
            let body = String::from_utf8_lossy(&body);
            assert_eq!(status, StatusCode::OK, "{path}: {body}");
            let envelope: crate::wire::Envelope = serde_json::from_str(&body).expect("an envelope");
            assert_eq!(envelope.status, inside, "{path}: {body}");
        }
        // Refused before it runs: no envelope, the refusal's own status.
        let mut request = post_with("/api/tandem_test_args", "application/json", "{}");
        request
            .headers_mut()
            .insert(TANDEM_HEADER, HeaderValue::from_static("1"));
        let (status, body) = answer(request).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
    }

    /// A declared function's arguments are decoded once: checked and run
    /// from the same decoding.
    #[tokio::test]
    async fn a_declared_functions_arguments_are_decoded_once() {
        let _turn = ONE_AT_A_TIME.lock().await;
        let before = DECODES.load(Ordering::SeqCst);
        let (status, body) = answer_now(post_with(
            "/api/tandem_test_counted",
            "application/x-www-form-urlencoded",
            "n=41",
        ))
        .await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "42"));
        assert_eq!(DECODES.load(Ordering::SeqCst) - before, 1, "decoded once");
        // Arguments that do not decode are still refused before it runs.
        let (status, body) = answer_now(post_with(
            "/api/tandem_test_counted",
            "application/x-www-form-urlencoded",
            "n=many",
        ))
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }

    /// A function with server_fn middlewares runs through them; arguments
    /// that do not decode are refused before the middlewares see them.
    #[tokio::test]
    async fn a_function_with_middlewares_runs_through_them() {
        let _turn = ONE_AT_A_TIME.lock().await;
        let before = LAYERED.load(Ordering::SeqCst);
        let (status, body) = answer_now(post_with(
            "/api/tandem_test_layered",
            "application/x-www-form-urlencoded",
            "n=41",
        ))
        .await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "42"));
        assert_eq!(LAYERED.load(Ordering::SeqCst) - before, 1, "through it");
        let (status, body) = answer_now(post_with(
            "/api/tandem_test_layered",
            "application/x-www-form-urlencoded",
            "n=many",
        ))
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(LAYERED.load(Ordering::SeqCst) - before, 1, "refused first");
    }

    #[tokio::test]
    async fn a_panicking_function_is_a_500_and_the_server_keeps_serving() {
        let (status, body) = answer(post("/api/tandem_test_panics")).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(body.contains("panicked"));
        let (status, body) = answer(post("/api/tandem_test_ok")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    #[tokio::test]
    async fn arguments_that_do_not_decode_are_400_naming_the_field() {
        let body = refused(
            post_with(
                "/api/tandem_test_args",
                "application/x-www-form-urlencoded",
                "count=1",
            ),
            400,
        )
        .await;
        assert!(body.contains("title"), "{body}");
        let body = refused(
            post_with(
                "/api/tandem_test_args",
                "application/x-www-form-urlencoded",
                "title=a&count=many",
            ),
            400,
        )
        .await;
        assert!(body.contains("count") || body.contains("invalid"), "{body}");
        let (status, body) = answer(post_with(
            "/api/tandem_test_args",
            "application/x-www-form-urlencoded",
            "title=a&count=2",
        ))
        .await;
        assert_eq!((status.as_u16(), body.as_str()), (200, "\"a2\""));
    }

    #[tokio::test]
    async fn bodies_must_decode_under_the_functions_own_codec() {
        // Broken percent escapes, even for a function without arguments.
        refused(
            post_with(
                "/api/tandem_test_ok",
                "application/x-www-form-urlencoded",
                "%zz=%G0",
            ),
            400,
        )
        .await;
        // Another codec's content type.
        refused(
            post_with("/api/tandem_test_ok", "application/json", "{\"x\":"),
            415,
        )
        .await;
        refused(
            post_with(
                "/api/tandem_test_json",
                "application/x-www-form-urlencoded",
                "n=1",
            ),
            415,
        )
        .await;
        // A content type that only starts like a form.
        refused(
            post_with(
                "/api/tandem_test_ok",
                "application/x-www-form-urlencodedXYZ",
                "",
            ),
            415,
        )
        .await;
        // JSON that does not decode.
        refused(
            post_with("/api/tandem_test_json", "application/json", "{\"n\":"),
            400,
        )
        .await;
        let (status, body) = answer(post_with(
            "/api/tandem_test_json",
            "application/json",
            "{\"n\":3}",
        ))
        .await;
        assert_eq!((status.as_u16(), body.as_str()), (200, "3"));
    }

    #[tokio::test]
    async fn a_forged_bound_argument_is_403() {
        let body = refused(
            post_with(
                "/api/tandem_test_bound",
                "application/x-www-form-urlencoded",
                "id=1",
            ),
            403,
        )
        .await;
        assert!(body.contains("bound argument"), "{body}");
    }

    #[tokio::test]
    async fn only_declared_queries_may_be_read_again() {
        let with_queries = |queries: &[&'static str]| {
            let mut request = post("/api/tandem_test_ok");
            for q in queries {
                request
                    .headers_mut()
                    .append(QUERIES_HEADER, HeaderValue::from_static(q));
            }
            request
        };
        let body = refused(with_queries(&[r#"[["/api/tandem_test_ok",""]]"#]), 400).await;
        assert!(body.contains("not a declared query"), "{body}");
        refused(with_queries(&[r#"[["/api/tandem_test_panics",""]]"#]), 400).await;
        refused(
            with_queries(&[
                r#"[["/api/tandem_test_read",""]]"#,
                r#"[["/api/tandem_test_read",""]]"#,
            ]),
            400,
        )
        .await;
        let (status, _) = answer(with_queries(&[r#"[["/api/tandem_test_read",""]]"#])).await;
        assert_eq!(status, StatusCode::OK);
    }

    #[tokio::test]
    async fn requests_for_another_host_or_not_for_a_path_are_400() {
        let mut request = post("/api/tandem_test_ok");
        request
            .headers_mut()
            .insert(header::HOST, HeaderValue::from_static("evil.example"));
        refused(request, 400).await;
        let mut request = post("/api/tandem_test_ok");
        *request.uri_mut() = "site.test:80".parse().expect("authority form");
        refused(request, 400).await;
    }

    #[tokio::test]
    async fn another_method_is_405_with_allow() {
        let mut request = post("/api/tandem_test_ok");
        *request.method_mut() = Method::GET;
        let response = app().oneshot(request).await.expect("call");
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(response.headers()[header::ALLOW], "POST");
    }
}
