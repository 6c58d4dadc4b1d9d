//! Serving the app over HTTP/1.1 with the limits a public server needs:
//! a client that does not send its whole request head within the
//! header-read timeout (10 s by default) is dropped, so half-sent requests
//! cannot pile up. (Whole bodies have their own time:
//! [`Guard::body_timeout`](crate::Guard::body_timeout).) Each request also
//! carries the address its connection came in on, which the host check
//! allows.
//!
//! It stands where `axum::serve` would (axum 0.8's `serve` sets no timer,
//! so its header timeout never fires). The timeout runs on a coarse clock
//! of its own (it fires within a tenth of itself after it passes; see
//! `coarse_timer.rs`): with tokio's timer, setting the deadline of each
//! keep-alive request woke tokio's timer driver under load.
//!
//! ```no_run
//! # async fn run(app: axum::Router) -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! tandem::serve(listener, app)
//!     .header_read_timeout(std::time::Duration::from_secs(10))
//!     .with_graceful_shutdown(async { let _ = tokio::signal::ctrl_c().await; })
//!     .await
//! # }
//! ```

use super::coarse_timer::CoarseTimer;
use super::guard::ConnectionAddrs;
use axum::extract::Request;
use axum::response::Response;
#[cfg(test)]
use axum::Router;
use futures::future::BoxFuture;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::convert::Infallible;
use std::future::{Future, IntoFuture};
use std::time::Duration;
use tokio::net::TcpListener;
use tower::{Service, ServiceExt};

/// Default time a client has to send a whole request head: 10 s.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long open connections may finish after a graceful shutdown starts.
const DRAIN: Duration = Duration::from_secs(10);

/// Serves `app` on `listener` (see the [module docs](self)); await it.
///
/// ```no_run
/// # async fn run(app: axum::Router) -> std::io::Result<()> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// tandem::serve(listener, app).await
/// # }
/// ```
pub fn serve<S>(listener: TcpListener, app: S) -> Serve<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    Serve {
        listener,
        app,
        header_read_timeout: std::env::var("TANDEM_HEADER_TIMEOUT")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_HEADER_READ_TIMEOUT),
        shutdown: None,
    }
}

/// A server being set up; `.await` it to run (see [`serve`]).
#[must_use = "a server runs only when awaited"]
pub struct Serve<S = axum::Router> {
    listener: TcpListener,
    app: S,
    header_read_timeout: Duration,
    shutdown: Option<BoxFuture<'static, ()>>,
}

impl<S> Serve<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    /// How long a client may take to send a request head (the default
    /// comes from `TANDEM_HEADER_TIMEOUT`, in seconds, else 10 s).
    ///
    /// ```no_run
    /// # async fn run(l: tokio::net::TcpListener, app: axum::Router) -> std::io::Result<()> {
    /// tandem::serve(l, app).header_read_timeout(std::time::Duration::from_secs(5)).await
    /// # }
    /// ```
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// Stops accepting when `signal` resolves, then lets open connections
    /// finish (for up to 10 s).
    ///
    /// ```no_run
    /// # async fn run(l: tokio::net::TcpListener, app: axum::Router) -> std::io::Result<()> {
    /// tandem::serve(l, app)
    ///     .with_graceful_shutdown(async { let _ = tokio::signal::ctrl_c().await; })
    ///     .await
    /// # }
    /// ```
    pub fn with_graceful_shutdown(
        mut self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> Self {
        self.shutdown = Some(Box::pin(signal));
        self
    }

    async fn run(self) -> std::io::Result<()> {
        let Serve {
            listener,
            app,
            header_read_timeout,
            shutdown,
        } = self;
        let mut shutdown = shutdown.unwrap_or_else(|| Box::pin(std::future::pending()));
        let graceful = GracefulShutdown::new();
        // Each keep-alive request sets a header deadline: on this timer it
        // costs a lock, not a wake of tokio's timer driver.
        let timer = CoarseTimer::new(CoarseTimer::tick_for(header_read_timeout));
        loop {
            let (stream, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        if !is_connection_error(&e) {
                            // Out of file descriptors, say: wait, then go on.
                            tracing::error!("tandem: accepting a connection: {e}");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                        continue;
                    }
                },
                _ = &mut shutdown => break,
            };
            // Without TCP_NODELAY, Nagle's algorithm delays small writes.
            let _ = stream.set_nodelay(true);
            let addrs = ConnectionAddrs {
                local: stream.local_addr().ok(),
                peer,
            };
            let service = app.clone().map_request(move |request: Request<Incoming>| {
                let mut request = request.map(axum::body::Body::new);
                request.extensions_mut().insert(addrs);
                request
            });
            let mut builder = Builder::new(TokioExecutor::new());
            builder
                .http1()
                .timer(timer.clone())
                .header_read_timeout(header_read_timeout);
            let connection = builder
                .serve_connection_with_upgrades(
                    TokioIo::new(stream),
                    TowerToHyperService::new(service),
                )
                .into_owned();
            let connection = graceful.watch(connection);
            tokio::spawn(async move {
                let _ = connection.await;
            });
        }
        drop(listener);
        if tokio::time::timeout(DRAIN, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("tandem: connections still open after {DRAIN:?}; closing");
        }
        Ok(())
    }
}

impl<S> IntoFuture for Serve<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Output = std::io::Result<()>;
    type IntoFuture = BoxFuture<'static, std::io::Result<()>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[tokio::test]
    async fn a_half_sent_request_head_is_dropped_after_the_timeout() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let app = Router::new().route("/", axum::routing::get(|| async { "ok" }));
        tokio::spawn(
            serve(listener, app)
                .header_read_timeout(Duration::from_millis(300))
                .into_future(),
        );
        let closed = tokio::task::spawn_blocking(move || {
            let mut stream = std::net::TcpStream::connect(addr).expect("connect");
            stream
                .write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
                .expect("write");
            stream
                .set_read_timeout(Some(Duration::from_secs(5)))
                .expect("timeout");
            let start = std::time::Instant::now();
            let mut buf = [0u8; 64];
            // The server closes the connection: read returns 0 (or an error).
            let n = stream.read(&mut buf).unwrap_or(0);
            (n, start.elapsed())
        })
        .await
        .expect("join");
        assert_eq!(closed.0, 0, "closed without an answer");
        assert!(
            closed.1 < Duration::from_secs(4),
            "closed after {:?}",
            closed.1
        );
    }

    #[tokio::test]
    async fn requests_carry_their_connections_addresses() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let app = Router::new().route(
            "/",
            axum::routing::get(|request: Request| async move {
                match request.extensions().get::<ConnectionAddrs>() {
                    Some(addrs) => format!("local {:?} peer {}", addrs.local, addrs.peer),
                    None => "no addresses".into(),
                }
            }),
        );
        tokio::spawn(serve(listener, app).into_future());
        let (text, client) = tokio::task::spawn_blocking(move || {
            let mut stream = std::net::TcpStream::connect(addr).expect("connect");
            let client = stream.local_addr().expect("client address");
            stream
                .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .expect("write");
            let mut text = String::new();
            let _ = stream.read_to_string(&mut text);
            (text, client)
        })
        .await
        .expect("join");
        // The address it came in on (the host check) and the client's
        // (rate limits).
        assert!(
            text.contains(&format!("local Some({addr}) peer {client}")),
            "{text}"
        );
    }
}
