//! The baseline for the HTTP benchmarks: a minimal axum server that serves
//! `GET /api/v2/interactions/{id}` from an in-memory map and accepts
//! `PUT /api/v2/interactions/{id}/wrap-up` into it — no authentication, no validation, no
//! storage. wrapup's figures are reported as ratios to it (see docs/benchmarks.md).
//!
//!     baseline-server --listen 127.0.0.1:9090 --interactions 100000

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use clap::Parser;
use uuid::Uuid;

#[derive(Parser)]
struct Args {
    #[arg(long, default_value = "127.0.0.1:9090")]
    listen: std::net::SocketAddr,
    /// Interactions in the map, with the ids `wrapup seed` gives.
    #[arg(long, default_value_t = 100_000)]
    interactions: u64,
}

type Map = Arc<RwLock<HashMap<Uuid, Bytes>>>;

fn seed_id(i: u64) -> Uuid {
    Uuid::from_u128((0x5eed_u128 << 64) | u128::from(i))
}

async fn get_interaction(State(map): State<Map>, Path(id): Path<Uuid>) -> impl IntoResponse {
    match map.read().unwrap().get(&id) {
        Some(body) => ([(header::CONTENT_TYPE, "application/json")], body.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn put_wrapup(State(map): State<Map>, Path(id): Path<Uuid>, body: Bytes) -> StatusCode {
    match map.write().unwrap().get_mut(&id) {
        Some(entry) => {
            *entry = body;
            StatusCode::NO_CONTENT
        }
        None => StatusCode::NOT_FOUND,
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut map = HashMap::with_capacity(args.interactions as usize);
    for i in 0..args.interactions {
        let id = seed_id(i);
        // The same shape and size as wrapup's answer.
        let body = format!(
            r#"{{"id":"{id}","divisionId":"81c30b77-0aaa-493d-a3db-660b4bf7b52d","channel":"voice","state":"closed","finalized":true,"createdAt":"2026-11-24T23:37:00.000Z","activeAt":"2026-11-24T23:37:00.000Z","closedAt":"2026-11-24T23:37:00.000Z","finalizedAt":"2026-11-24T23:37:00.000Z","wrapUp":null,"version":4}}"#
        );
        map.insert(id, Bytes::from(body));
    }
    let app = Router::new()
        .route("/api/v2/interactions/{id}", get(get_interaction))
        .route(
            "/api/v2/interactions/{id}/wrap-up",
            axum::routing::put(put_wrapup),
        )
        .with_state(Arc::new(RwLock::new(map)));
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    eprintln!("baseline listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
