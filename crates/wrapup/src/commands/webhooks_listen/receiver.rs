//! A local webhook receiver that verifies each delivery's signature and hands it on:
//! what `wrapup webhooks listen` runs (like `stripe listen`), so a developer sees the
//! deliveries their endpoint will get before writing it. It answers `200` to a delivery
//! that verifies (or to any, without a secret) and `401` to one that does not.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use wrapup_domain::webhook_signature::{verify, SignedHeaders, SigningKey, VerifyError};

/// A delivery as received.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: Option<String>,
    pub timestamp: Option<String>,
    pub body: Vec<u8>,
    /// `None` when no secret was given; otherwise whether the signature verified.
    pub verified: Option<Result<(), VerifyError>>,
}

#[derive(Clone)]
struct Listener {
    key: Option<SigningKey>,
    deliveries: mpsc::Sender<Delivery>,
}

/// Serves on `listener` until the task is dropped, sending every delivery (any path, any
/// `POST`) to `deliveries`.
pub async fn serve(
    listener: TcpListener,
    key: Option<SigningKey>,
    deliveries: mpsc::Sender<Delivery>,
) -> std::io::Result<()> {
    let router = Router::new()
        .fallback(receive)
        .with_state(Listener { key, deliveries });
    axum::serve(listener, router).await
}

async fn receive(State(l): State<Listener>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let (id, timestamp, signature) = (
        header("webhook-id"),
        header("webhook-timestamp"),
        header("webhook-signature"),
    );
    let now_s = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let verified = l.key.as_ref().map(|key| {
        let signed = SignedHeaders {
            id: id.as_deref(),
            timestamp: timestamp.as_deref(),
            signature: signature.as_deref(),
        };
        verify(key, signed, &body, now_s)
    });
    let status = match &verified {
        Some(Err(_)) => StatusCode::UNAUTHORIZED,
        _ => StatusCode::OK,
    };
    let _ = l
        .deliveries
        .send(Delivery {
            id,
            timestamp,
            body: body.to_vec(),
            verified,
        })
        .await;
    status
}
