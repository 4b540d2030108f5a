//! A webhook receiver for tests: an HTTP server on 127.0.0.1:0 that records every delivery
//! and answers as the test scripts it (a status, a `Retry-After`, or no answer at all).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use tokio::sync::Notify;
use wrapup_domain::webhook_signature::{verify, SignedHeaders, SigningKey};

/// One delivery as received.
#[derive(Debug, Clone)]
pub struct Received {
    /// `webhook-id`.
    pub id: String,
    /// `webhook-timestamp`.
    pub timestamp: String,
    /// `webhook-signature`.
    pub signature: String,
    pub body: Vec<u8>,
    /// The body, parsed.
    pub payload: serde_json::Value,
    /// How many deliveries with this `webhook-id` came before this one.
    pub repeat: usize,
}

impl Received {
    /// Whether `secret` verifies this delivery (at `now_s`, seconds since the epoch).
    pub fn verifies_with(&self, secret: &str, now_s: i64) -> bool {
        let key = SigningKey::parse(secret).expect("a whsec_ secret");
        let headers = SignedHeaders {
            id: Some(&self.id),
            timestamp: Some(&self.timestamp),
            signature: Some(&self.signature),
        };
        verify(&key, headers, &self.body, now_s).is_ok()
    }

    /// The event's sequence number (`None` for a test delivery).
    pub fn sequence(&self) -> Option<i64> {
        self.payload["sequence"].as_i64()
    }

    pub fn event_type(&self) -> &str {
        self.payload["type"].as_str().unwrap_or_default()
    }
}

/// How the receiver answers a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    Status(u16),
    /// A status with `Retry-After: <seconds>`.
    RetryAfter(u16, u64),
    /// No answer, ever (the sender times out).
    Hang,
}

type Script = Box<dyn Fn(&Received) -> Reply + Send + Sync>;

struct Inner {
    received: Mutex<Vec<Received>>,
    arrived: Notify,
    script: Mutex<Script>,
}

/// The receiver; it stops when dropped.
pub struct WebhookReceiver {
    /// `http://127.0.0.1:PORT/hooks`.
    pub url: String,
    inner: Arc<Inner>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl WebhookReceiver {
    /// A receiver that answers 200 to everything (see [`WebhookReceiver::script`]).
    pub async fn start() -> WebhookReceiver {
        let inner = Arc::new(Inner {
            received: Mutex::new(Vec::new()),
            arrived: Notify::new(),
            script: Mutex::new(Box::new(|_| Reply::Status(200))),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        let router = Router::new()
            .route("/hooks", post(receive))
            .with_state(inner.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        WebhookReceiver { url, inner, server }
    }

    /// Answers each delivery as `script` says.
    pub fn script(&self, script: impl Fn(&Received) -> Reply + Send + Sync + 'static) {
        *self.inner.script.lock().unwrap() = Box::new(script);
    }

    /// Every delivery received so far, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        self.inner.received.lock().unwrap().clone()
    }

    /// Waits (at most 10 s) until `n` deliveries have arrived in all; returns them all.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let arrived = self.inner.arrived.notified();
                let got = self.received();
                if got.len() >= n {
                    return got;
                }
                arrived.await;
            }
        })
        .await
        .unwrap_or_else(|_| {
            panic!(
                "{n} deliveries within 10 s; got {:?}",
                self.received()
                    .iter()
                    .map(|r| (r.id.clone(), r.event_type().to_string()))
                    .collect::<Vec<_>>()
            )
        })
    }
}

async fn receive(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let id = header("webhook-id");
    let reply = {
        let mut received = inner.received.lock().unwrap();
        let delivery = Received {
            repeat: received.iter().filter(|r| r.id == id).count(),
            id,
            timestamp: header("webhook-timestamp"),
            signature: header("webhook-signature"),
            payload: serde_json::from_slice(&body).unwrap_or_default(),
            body: body.to_vec(),
        };
        let reply = (inner.script.lock().unwrap())(&delivery);
        received.push(delivery);
        reply
    };
    inner.arrived.notify_waiters();
    match reply {
        Reply::Status(s) => (
            StatusCode::from_u16(s).unwrap(),
            "answered by the test receiver",
        )
            .into_response(),
        Reply::RetryAfter(s, after) => (
            StatusCode::from_u16(s).unwrap(),
            [("retry-after", after.to_string())],
            "try later",
        )
            .into_response(),
        Reply::Hang => std::future::pending().await,
    }
}
