//! Tandem in front of your app, as a tower [`Layer`]: every request comes
//! to Tandem first; a server function call or a form posted without
//! JavaScript is answered by Tandem, anything else goes on to the app.
//!
//! Put it around the whole [`Router`](axum::Router), not inside it (as
//! `Router::layer` would): Tandem's calls then skip the router's matching
//! and the boxing of each route, and pages are routed once, by the app.
//!
//! ```no_run
//! use axum::Router;
//! use tower::Layer;
//!
//! # async fn run() -> std::io::Result<()> {
//! let tandem = tandem::TandemServer::new(|| {});
//! let app = tandem.layer().layer(Router::new());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! tandem::serve(listener, app).await
//! # }
//! ```

use super::TandemServer;
use axum::extract::Request;
use axum::response::Response;
use futures::future::BoxFuture;
use std::convert::Infallible;
use std::task::{Context, Poll};
use tower::util::BoxCloneSyncService;
use tower::{Layer, Service, ServiceExt};

/// The app behind Tandem: where a request Tandem does not answer itself
/// goes (a page, a route of your own, a form that is not Tandem's).
#[derive(Clone)]
pub(crate) struct App(BoxCloneSyncService<Request, Response, Infallible>);

impl App {
    /// The app as a boxed service.
    pub(crate) fn new<S>(service: S) -> Self
    where
        S: Service<Request, Response = Response, Error = Infallible>
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        Self(BoxCloneSyncService::new(service))
    }

    /// The app's answer to `request`.
    pub(crate) async fn run(self, request: Request) -> Response {
        match self.0.oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }
}

/// Puts Tandem in front of a service (see the [module docs](self)); made by
/// [`TandemServer::layer`].
///
/// ```
/// use tower::Layer;
/// let app = tandem::TandemServer::new(|| {}).layer().layer(axum::Router::<()>::new());
/// ```
#[derive(Clone)]
pub struct TandemLayer {
    server: TandemServer,
}

impl TandemLayer {
    pub(crate) fn new(server: TandemServer) -> Self {
        Self { server }
    }
}

impl<S> Layer<S> for TandemLayer {
    type Service = Tandem<S>;

    fn layer(&self, app: S) -> Tandem<S> {
        Tandem {
            server: self.server.clone(),
            app,
        }
    }
}

/// Tandem in front of the app `S`: answers calls and forms, passes the rest
/// on (see the [module docs](self)).
///
/// ```
/// use tower::Layer;
/// let app: tandem::server::Tandem<axum::Router> =
///     tandem::TandemServer::new(|| {}).layer().layer(axum::Router::new());
/// ```
#[derive(Clone)]
pub struct Tandem<S> {
    server: TandemServer,
    app: S,
}

impl<S> Service<Request> for Tandem<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // The app is made ready when a request goes to it (`oneshot`).
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let server = self.server.clone();
        let app = self.app.clone();
        Box::pin(async move { Ok(server.handle(request, move || App::new(app)).await) })
    }
}

#[cfg(test)]
mod tests {
    use crate::TandemServer;
    use axum::body::Body;
    use axum::extract::Request;
    use http::{header, StatusCode};
    use tower::{Layer, ServiceExt};

    fn request(method: &str, path: &str) -> Request {
        Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, "site.test")
            .body(Body::empty())
            .expect("request")
    }

    #[tokio::test]
    async fn calls_are_answered_by_tandem_and_the_rest_by_the_app() {
        let server = TandemServer::new(|| {})
            .with_guard(crate::server::Guard::default().allow_host("site.test"));
        let app = axum::Router::new().route("/page", axum::routing::get(|| async { "the page" }));
        let tandem = server.layer().layer(app);

        let page = tandem
            .clone()
            .oneshot(request("GET", "/page"))
            .await
            .expect("answer");
        assert_eq!(page.status(), StatusCode::OK);
        let body = axum::body::to_bytes(page.into_body(), 1024)
            .await
            .expect("body");
        assert_eq!(&body[..], b"the page");

        // A server function (declared in the server module's tests) is
        // called through Tandem: the app has no route for it.
        let mut call = request("POST", "/api/tandem_test_ok");
        call.headers_mut().insert(
            header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        let called = tandem.clone().oneshot(call).await.expect("answer");
        assert_eq!(called.status(), StatusCode::OK);
        let body = axum::body::to_bytes(called.into_body(), 1024)
            .await
            .expect("body");
        assert_eq!(&body[..], b"7");

        // The guard is in front of everything, the app's routes included.
        let foreign = tandem
            .oneshot(
                Request::builder()
                    .uri("/page")
                    .header(header::HOST, "evil.test")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("answer");
        assert_eq!(foreign.status(), StatusCode::BAD_REQUEST);
    }
}
