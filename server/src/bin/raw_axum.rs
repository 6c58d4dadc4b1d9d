//! The benchmark's ceiling: `increment_like` as a bare axum handler on the
//! same SQLite store, with no Leptos and no Tandem in the way. It answers
//! `POST /api/increment_like` with the new total as JSON, as the server
//! function does.
//!
//! Configuration: `LEPTOS_SITE_ADDR` (default `127.0.0.1:3000`; port 0
//! picks a free port) and `DATABASE_URL`, as for the demo server.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use shared::store::Store;

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("raw-axum: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let store = Store::open_from_env().await?;
    let app = Router::new()
        .route("/api/increment_like", post(increment_like))
        .with_state(store);
    let addr = std::env::var("LEPTOS_SITE_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("raw-axum listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

async fn increment_like(State(store): State<Store>) -> Result<Json<i64>, (StatusCode, String)> {
    store
        .increment("likes")
        .await
        .map(Json)
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}
