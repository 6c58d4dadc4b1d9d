//! The server side: running server functions with an effects record, and
//! forms posted without JavaScript.
//!
//! [`TandemServer`] wraps leptos_axum's server function handler. For each
//! call it provides an [`EffectsRecord`] (plus your own context) to the
//! function, then turns what the function recorded into the response: an
//! [`Envelope`] for Tandem's client, `Set-Cookie` headers, a `303` on a
//! redirect for other callers. As a [`middleware`](TandemServer::middleware)
//! in front of the app it answers every server function endpoint (`POST`
//! only: other methods get `405` with `Allow: POST`), and handles
//! `<Form>`s posted natively to a page: it runs the named server function
//! and renders the page in place with the result.
//!
//! ```no_run
//! use axum::Router;
//! use leptos::prelude::*;
//! use leptos_axum::{generate_route_list, LeptosRoutes};
//!
//! # #[component] fn App() -> impl IntoView { () }
//! # fn shell(_: LeptosOptions) -> impl IntoView { view! { <App/> } }
//! # async fn run() {
//! let options = get_configuration(None).unwrap().leptos_options;
//! let context = || { /* provide_context(store.clone()) */ };
//! let pages = Router::new()
//!     .leptos_routes_with_context(&options, generate_route_list(App), context, {
//!         let options = options.clone();
//!         move || shell(options.clone())
//!     })
//!     .with_state(options);
//! // Tandem sits in front of the whole app: server function calls and
//! // no-JS form posts go through it, everything else passes.
//! let app: Router = Router::new().fallback_service(pages).layer(axum::middleware::from_fn_with_state(
//!     tandem::TandemServer::new(context),
//!     tandem::TandemServer::middleware,
//! ));
//! # }
//! ```

use crate::bind::{BindError, BindKey, Scope, FORGED, SCOPE};
use crate::cache::{Cache, CacheConfigError, PagePath};
use crate::effects::EffectsRecord;
use crate::flight::{
    decode_queries, path_of, Body as FlightBody, Envelope, FormPost, MountedQuery, QueryResult,
    ENVELOPE_CONTENT_TYPE, PAGE_HEADER, QUERIES_HEADER, TANDEM_HEADER,
};
use crate::form::SubmittedAction;
use crate::guard::{bad_arguments, too_large, Guard, Refusal};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::FutureExt;
use http::{header, HeaderValue, Method, StatusCode};
use http_body::Body as _;
use leptos::prelude::provide_context;
use std::collections::HashMap;
use std::sync::Arc;

/// Runs server functions with Tandem's effects (see the [module docs](self)).
/// Cheap to clone.
///
/// ```no_run
/// let tandem = tandem::TandemServer::new(|| {});
/// ```
#[derive(Clone)]
pub struct TandemServer {
    context: Arc<dyn Fn() + Send + Sync>,
    /// Every registered server function: path → method.
    functions: Arc<HashMap<&'static str, Method>>,
    cache: Cache,
    guard: Arc<Guard>,
    key: BindKey,
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
    /// In a release build without `TANDEM_SECRET` (see
    /// [`TandemServer::try_new`], which returns the error instead).
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
        Ok(Self {
            context: Arc::new(context),
            functions: Arc::new(server_fn::axum::server_fn_paths().collect()),
            cache: Cache::from_env()?,
            guard: Arc::new(Guard::from_env()),
            key: BindKey::from_env()?,
        })
    }

    /// Seals bound arguments with `key` instead of `TANDEM_SECRET`'s.
    ///
    /// ```
    /// let tandem = tandem::TandemServer::new(|| {}).with_key(tandem::BindKey::generate());
    /// ```
    pub fn with_key(mut self, key: BindKey) -> Self {
        self.key = key;
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

    /// Uses `cache` (its store) instead of the default in-memory one.
    ///
    /// ```no_run
    /// use tandem::cache::{Cache, MemoryStore};
    /// let tandem = tandem::TandemServer::new(|| {}).with_cache(Cache::new(MemoryStore::new(1000)));
    /// ```
    pub fn with_cache(mut self, cache: Cache) -> Self {
        self.cache = cache;
        self
    }

    /// The context for rendering pages: the app's, plus Tandem's cache. Pass
    /// it to `leptos_routes_with_context`.
    ///
    /// ```no_run
    /// let tandem = tandem::TandemServer::new(|| {});
    /// let context = tandem.page_context();
    /// ```
    pub fn page_context(&self) -> impl Fn() + Clone + Send + Sync + 'static {
        let context = self.context.clone();
        let cache = self.cache.clone();
        let key = self.key.clone();
        move || {
            context();
            provide_context(cache.clone());
            provide_context(key.clone());
        }
    }

    /// Handles a request to a server function's endpoint.
    ///
    /// ```no_run
    /// # async fn f(req: axum::extract::Request) {
    /// let tandem = tandem::TandemServer::new(|| {});
    /// let response = tandem.handle(req).await;
    /// # }
    /// ```
    pub async fn handle(&self, req: Request) -> Response {
        let speaks_envelope = req.headers().contains_key(TANDEM_HEADER);
        let mounted = match mounted_queries(req.headers(), &self.functions) {
            Ok(m) => m,
            Err(message) => return (StatusCode::BAD_REQUEST, message).into_response(),
        };
        let page = req
            .headers()
            .get(PAGE_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let headers = req.headers().clone();
        let record = EffectsRecord::new(cookie_header(req.headers()));
        let response = arguments_refused(self.run(req, record.clone(), page.clone()).await).await;
        let effects = record.effects();
        self.cache.apply(&effects).await;
        let (mut parts, body) = response.into_parts();
        append_cookies(&mut parts.headers, &record);
        if speaks_envelope && body.size_hint().exact().is_some() {
            let bytes = match axum::body::to_bytes(body, usize::MAX).await {
                Ok(b) => b,
                Err(e) => return internal_error(format!("reading the function's response: {e}")),
            };
            // Fresh data for the page, when the action touched it and the
            // browser stays on that page.
            let stays = match (&effects.redirect, &page) {
                (None, _) => true,
                (Some(to), Some(page)) => path_of(to) == page,
                (Some(_), None) => false,
            };
            let queries = if stays && (effects.page_data_changed() || effects.redirect.is_some()) {
                self.rerun(&mounted, &headers, &record, page).await
            } else {
                Vec::new()
            };
            let envelope = Envelope {
                status: parts.status.as_u16(),
                body: FlightBody::from(bytes.to_vec()),
                effects,
                queries,
            };
            let json = match serde_json::to_vec(&envelope) {
                Ok(j) => j,
                Err(e) => return internal_error(format!("encoding the envelope: {e}")),
            };
            parts.status = StatusCode::OK;
            parts.headers.remove(header::CONTENT_LENGTH);
            parts.headers.remove(header::LOCATION);
            parts.headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(ENVELOPE_CONTENT_TYPE),
            );
            return Response::from_parts(parts, Body::from(json));
        }
        if let Some(to) = effects.redirect {
            return see_other(&to, parts.headers);
        }
        Response::from_parts(parts, body)
    }

    /// Runs the mounted queries again, in process, as the browser would
    /// call them now: with the cookies the action just set.
    async fn rerun(
        &self,
        queries: &[MountedQuery],
        headers: &http::HeaderMap,
        record: &EffectsRecord,
        page: Option<String>,
    ) -> Vec<QueryResult> {
        let cookies = record.cookie_header();
        let runs = queries.iter().map(|query| {
            let mut call = Request::builder()
                .method(Method::POST)
                .uri(query.path.as_str());
            for (name, value) in headers.iter() {
                let skip = name == header::CONTENT_LENGTH
                    || name == header::CONTENT_TYPE
                    || name == header::COOKIE
                    || name.as_str() == QUERIES_HEADER;
                if !skip {
                    call = call.header(name, value);
                }
            }
            let call = call
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::COOKIE, cookies.as_str())
                .body(Body::from(query.args.clone()));
            let page = page.clone();
            let record = EffectsRecord::new(&cookies);
            async move {
                let call = call.ok()?;
                let response = self.run(call, record, page).await;
                let status = response.status().as_u16();
                let body = axum::body::to_bytes(response.into_body(), usize::MAX)
                    .await
                    .ok()?;
                Some(QueryResult {
                    query: query.clone(),
                    status,
                    body: FlightBody::from(body.to_vec()),
                })
            }
        });
        futures::future::join_all(runs)
            .await
            .into_iter()
            .flatten()
            .collect()
    }

    /// Runs the server function `req` names, with `record`, the cache, the
    /// page's path and the app's context provided.
    async fn run(&self, req: Request, record: EffectsRecord, page: Option<String>) -> Response {
        let context = self.page_context();
        let scope = Scope {
            key: self.key.clone(),
            action: req.uri().path().to_string(),
        };
        let call = leptos_axum::handle_server_fns_with_context(
            move || {
                context();
                provide_context(record.clone());
                if let Some(page) = &page {
                    provide_context(PagePath(page.clone()));
                }
            },
            req,
        );
        SCOPE.scope(scope, call).await.into_response()
    }

    /// The middleware to put in front of the whole app (see the
    /// [module docs](self)): server function calls, `405` for other
    /// methods on their endpoints, and forms posted without JavaScript.
    /// Every other request passes through.
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
        let path = req.uri().path().to_string();
        if let Some(method) = server.functions.get(path.as_str()).cloned() {
            if req.method() != method {
                let mut response = refuse(Refusal::new(
                    StatusCode::METHOD_NOT_ALLOWED,
                    format!("{path} is a server function: call it with {method}"),
                ));
                if let Ok(allow) = HeaderValue::from_str(method.as_str()) {
                    response.headers_mut().insert(header::ALLOW, allow);
                }
                return response;
            }
            if let Err(refusal) = server
                .guard
                .check_origin(req.headers())
                .and_then(|_| server.guard.check_body_headers(&path, req.headers()))
            {
                return refuse(refusal);
            }
            let limit = server.guard.limit_for(&path);
            let (parts, body) = req.into_parts();
            let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
                return refuse(too_large(limit));
            };
            let req = Request::from_parts(parts, Body::from(bytes));
            // A panicking function answers 500; the server keeps serving.
            return match std::panic::AssertUnwindSafe(server.handle(req))
                .catch_unwind()
                .await
            {
                Ok(response) => response,
                Err(panic) => {
                    let what = panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_default();
                    internal_error(format!("the server function {path} panicked: {what}"))
                }
            };
        }
        if path.starts_with(SERVER_FN_PREFIX) {
            return refuse(Refusal::new(
                StatusCode::NOT_FOUND,
                format!("there is no server function at {path}"),
            ));
        }
        let is_form = req.method() == Method::POST
            && req
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            return next.run(req).await;
        }
        if let Err(refusal) = server.guard.check_origin(req.headers()) {
            return refuse(refusal);
        }
        server.form_post(req, next).await
    }

    /// A `POST` of a Tandem `<Form>` to a page (a browser without
    /// JavaScript): runs the form's server function, then answers `303` if
    /// it redirected, or renders the page at the same URL with the result.
    async fn form_post(&self, req: Request, next: Next) -> Response {
        let server = self;
        let (parts, body) = req.into_parts();
        let limit = server.guard.limit_for(parts.uri.path());
        let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
            return refuse(too_large(limit));
        };
        let FormPost { fields, action } = FormPost::decode(&bytes);
        let Some(action) = action else {
            // Not one of ours: let the app's own routes answer.
            let req = Request::from_parts(parts, Body::from(bytes));
            return next.run(req).await;
        };
        if server.functions.get(action.as_str()) != Some(&Method::POST) {
            return refuse(Refusal::new(
                StatusCode::NOT_FOUND,
                format!("the form names {action:?}, which is not a server function"),
            ));
        }

        // Run the function as if the form had been sent to its endpoint.
        let record = EffectsRecord::new(cookie_header(&parts.headers));
        let mut call = Request::builder().method(Method::POST).uri(action.as_str());
        for (name, value) in parts.headers.iter() {
            if name != header::CONTENT_LENGTH {
                call = call.header(name, value);
            }
        }
        let call = match call.body(Body::from(bytes)) {
            Ok(c) => c,
            Err(e) => return internal_error(format!("building the call: {e}")),
        };
        let response = server
            .run(call, record.clone(), Some(parts.uri.path().to_string()))
            .await;
        let status = response.status();
        let body = match axum::body::to_bytes(response.into_body(), usize::MAX).await {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(e) => return internal_error(format!("reading the function's response: {e}")),
        };
        let effects = record.effects();
        server.cache.apply(&effects).await;
        if let Some(to) = effects.redirect {
            let mut headers = http::HeaderMap::new();
            append_cookies(&mut headers, &record);
            return see_other(&to, headers);
        }
        if status.is_server_error() {
            tracing_error(&action, &body);
        }

        // Render the page at the same URL, seeing the cookies the function
        // set, with its result in place.
        let mut page = Request::builder()
            .method(Method::GET)
            .uri(parts.uri.clone());
        for (name, value) in parts.headers.iter() {
            if name != header::CONTENT_LENGTH
                && name != header::CONTENT_TYPE
                && name != header::COOKIE
            {
                page = page.header(name, value);
            }
        }
        let cookies = record.cookie_header();
        if !cookies.is_empty() {
            page = page.header(header::COOKIE, cookies);
        }
        let mut page = match page.body(Body::empty()) {
            Ok(p) => p,
            Err(e) => return internal_error(format!("building the page request: {e}")),
        };
        page.extensions_mut().insert(SubmittedAction {
            action,
            status: status.as_u16(),
            body,
            fields,
        });
        let mut response = next.run(page).await;
        append_cookies(response.headers_mut(), &record);
        // The page must not be cached as the page's plain GET.
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

/// The queries a request names, checked: at most [`MAX_QUERIES`], each a
/// registered `POST` server function.
fn mounted_queries(
    headers: &http::HeaderMap,
    functions: &HashMap<&'static str, Method>,
) -> Result<Vec<MountedQuery>, String> {
    let Some(value) = headers.get(QUERIES_HEADER) else {
        return Ok(Vec::new());
    };
    let queries = decode_queries(value.as_bytes()).map_err(|e| e.to_string())?;
    if let Some(unknown) = queries
        .iter()
        .find(|q| functions.get(q.path.as_str()) != Some(&Method::POST))
    {
        return Err(format!(
            "{QUERIES_HEADER} names {:?}, which is not a server function",
            unknown.path
        ));
    }
    Ok(queries)
}

fn cookie_header(headers: &http::HeaderMap) -> &str {
    headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

fn append_cookies(headers: &mut http::HeaderMap, record: &EffectsRecord) {
    for cookie in record.set_cookie_headers() {
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            headers.append(header::SET_COOKIE, v);
        }
    }
}

fn see_other(to: &str, mut headers: http::HeaderMap) -> Response {
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

/// A 4xx with its message as plain text.
fn refuse(refusal: Refusal) -> Response {
    (refusal.status, refusal.message).into_response()
}

/// A function that failed because its arguments did not decode answers
/// `400` (server_fn says `500` for every error); the body, which names what
/// was wrong, is kept for the caller's codec.
async fn arguments_refused(response: Response) -> Response {
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => return internal_error(format!("reading an error response: {e}")),
    };
    if let Some(message) = bad_arguments(&bytes) {
        parts.status = if message.contains(FORGED) {
            StatusCode::FORBIDDEN
        } else {
            StatusCode::BAD_REQUEST
        };
    }
    Response::from_parts(parts, Body::from(bytes))
}

fn internal_error(message: String) -> Response {
    leptos::logging::error!("tandem: {message}");
    (StatusCode::INTERNAL_SERVER_ERROR, message).into_response()
}

fn tracing_error(action: &str, body: &str) {
    leptos::logging::error!("tandem: {action} failed: {body}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use leptos::prelude::*;
    use tower::ServiceExt;

    #[server(endpoint = "tandem_test_panics")]
    pub async fn tandem_test_panics() -> Result<(), ServerFnError> {
        panic!("boom in a server function")
    }

    #[server(endpoint = "tandem_test_ok")]
    pub async fn tandem_test_ok() -> Result<i32, ServerFnError> {
        Ok(7)
    }

    fn app() -> axum::Router {
        axum::Router::new()
            .fallback_service(axum::Router::new())
            .layer(axum::middleware::from_fn_with_state(
                TandemServer::new(|| {}),
                TandemServer::middleware,
            ))
    }

    fn post(path: &str) -> Request {
        Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::empty())
            .expect("request")
    }

    #[tokio::test]
    async fn a_panicking_function_is_a_500_and_the_server_keeps_serving() {
        let app = app();
        let response = app
            .clone()
            .oneshot(post("/api/tandem_test_panics"))
            .await
            .expect("call");
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .expect("body");
        assert!(String::from_utf8_lossy(&body).contains("panicked"));
        let response = app
            .oneshot(post("/api/tandem_test_ok"))
            .await
            .expect("call");
        assert_eq!(response.status(), StatusCode::OK);
    }
}
