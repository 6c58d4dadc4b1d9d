//! The demo server: the app's pages (server-rendered, hydrated in the
//! browser), its server functions under `/api`, and the static files of the
//! site root (`target/site`: the wasm, JS and CSS cargo-leptos builds).
//!
//! Configuration comes from the environment: `LEPTOS_SITE_ADDR` (default
//! `127.0.0.1:3000`; port 0 picks a free port), `LEPTOS_SITE_ROOT`,
//! `DATABASE_URL` (default `sqlite://data/tandem.db`), `RUST_LOG`.

use app::{shell, App};
use axum::Router;
use leptos::config::get_configuration;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use shared::store::Store;
use tandem::TandemServer;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
enum StartError {
    #[error("reading the Leptos configuration: {0}")]
    Config(#[from] leptos::config::errors::LeptosConfigError),
    #[error("opening the store: {0}")]
    Store(#[from] shared::store::StoreError),
    #[error("{0}")]
    Tandem(#[from] tandem::ConfigError),
    #[error("listening on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("serving: {0}")]
    Serve(std::io::Error),
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .init();
    if let Err(e) = run().await {
        tracing::error!("{e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), StartError> {
    let mut options = get_configuration(None)?.leptos_options;
    if options.output_name.is_empty() {
        // Built without cargo-leptos and without LEPTOS_OUTPUT_NAME.
        options.output_name = "tandem-demo".into();
    }
    let store = Store::open_from_env().await?;
    let context = {
        let store = store.clone();
        move || provide_context(store.clone())
    };

    let tandem = TandemServer::try_new(context)?;
    let routes = generate_route_list(App);
    let pages = Router::new()
        .leptos_routes_with_context(&options, routes, tandem.page_context(), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .nest_service(&format!("/{}", options.site_pkg_dir), bundle(&options))
        .fallback(leptos_axum::file_and_error_handler(shell))
        .with_state(options.clone());
    let routes = Router::new()
        .route(
            "/avatars/{name}",
            axum::routing::get(avatar).with_state(store.clone()),
        )
        .fallback_service(pages);
    let app = ServiceBuilder::new()
        // One body type for the answers (the compression layer's, boxed).
        .map_response(axum::response::IntoResponse::into_response)
        // Pages and server function answers, compressed when they are worth
        // it (tower-http skips tiny bodies and already encoded ones). With
        // gzip only, as Next.js compresses its answers: tower-http's body
        // type holds a brotli encoder's whole state inline (kilobytes), so
        // with `compression-br` every answer, compressed or not, was boxed
        // and copied at that size (~6 k instructions of an `increment_like`
        // call, callgrind). The static bundle keeps its precompressed `.br`
        // files (`bundle` below).
        .layer(CompressionLayer::new())
        // Tandem in front of the whole app, before its router: server
        // function calls (with effects, cookies, the cache and the
        // envelope) and forms posted without JavaScript. Pages render with
        // the same context, cache included.
        .layer(tandem.layer())
        .service(routes);

    let addr = options.site_addr;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| StartError::Bind { addr, source })?;
    // Scripts wait for this line; keep its shape.
    println!("tandem-demo listening on http://{local}");
    tracing::info!("listening on http://{local}");
    // Tandem's serve: slow clients are dropped (header-read timeout), and
    // each request carries the address it came in on, for the host check.
    tandem::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(StartError::Serve)
}

/// `GET /avatars/{name}`: the avatar `name` uploaded, its bytes as they
/// were sent, with the content type their first bytes showed (PNG or JPEG;
/// `sign_up` takes nothing else).
async fn avatar(
    axum::extract::State(store): axum::extract::State<Store>,
    axum::extract::Path(name): axum::extract::Path<String>,
) -> axum::response::Response {
    use axum::http::{header, HeaderValue, StatusCode};
    use axum::response::IntoResponse;
    match store.avatar(&name).await {
        Ok(Some((content_type, bytes))) => {
            let content_type = HeaderValue::from_str(&content_type)
                .unwrap_or(HeaderValue::from_static("application/octet-stream"));
            let headers = [
                (header::CONTENT_TYPE, content_type),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            ];
            (headers, bytes).into_response()
        }
        Ok(None) => (StatusCode::NOT_FOUND, "no such avatar").into_response(),
        Err(e) => {
            tracing::error!("reading the avatar of {name:?}: {e}");
            (StatusCode::INTERNAL_SERVER_ERROR, "cannot read the avatar").into_response()
        }
    }
}

/// The wasm, JS and CSS. In production (`LEPTOS_ENV=PROD`), the `.br` or
/// `.gz` file `cargo xtask build` writes beside each one, when the browser
/// accepts it; in development (where `cargo leptos watch` rewrites the
/// files but not those) the files themselves, compressed on the fly by the
/// compression layer.
fn bundle(options: &LeptosOptions) -> ServeDir {
    let dir = ServeDir::new(format!("{}/{}", options.site_root, options.site_pkg_dir));
    if options.env == leptos::config::Env::PROD {
        dir.precompressed_br().precompressed_gzip()
    } else {
        dir
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
