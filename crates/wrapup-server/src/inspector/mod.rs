//! The request inspector: a ring buffer of the most recent requests, with their headers
//! (credentials redacted), their body (cut at 16 KiB) and the error body sent back, filled
//! by `middleware::observe` and served by `routes.rs` to whoever debugs a client;
//! `diagnosis.rs` explains a recorded request.
//!
//! The body is captured as the handler reads it ([`TeeBody`]), so the inspector never
//! changes how a request is read or limited. Each entry gets the next `sequence` number
//! and is also published on a broadcast channel, which `GET /api/v2/inspector/requests/stream`
//! follows (resuming from the ring buffer after `Last-Event-ID`).

pub mod diagnosis;
pub mod routes;

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap};
use http_body::{Body as HttpBody, Frame, SizeHint};
use serde::Deserialize;
use tokio::sync::broadcast;
use uuid::Uuid;
use wrapup_types::{InspectedHeader, InspectedRequest};

/// The most request-body bytes kept per request.
pub const BODY_CAPTURE_BYTES: usize = 16 * 1024;
/// The most entries one listing returns.
pub const MAX_LIMIT: usize = 1_000;

const REDACTED: &str = "[redacted]";

/// How many new entries a slow stream subscriber may lag before it re-reads the buffer.
const FEED_BUFFER: usize = 1_024;

/// The ring buffer.
pub struct Inspector {
    capacity: usize,
    entries: Mutex<Entries>,
    feed: broadcast::Sender<Arc<InspectedRequest>>,
}

struct Entries {
    kept: VecDeque<Arc<InspectedRequest>>,
    /// The `sequence` of the last entry pushed (0: none yet).
    last: u64,
}

/// Which recent requests a listing returns.
#[derive(Debug, Clone, Default)]
pub struct RequestFilter<'a> {
    pub status: Option<StatusFilter>,
    pub path_prefix: Option<&'a str>,
    pub client_id: Option<Uuid>,
}

impl RequestFilter<'_> {
    fn admits(&self, e: &InspectedRequest) -> bool {
        self.status.is_none_or(|s| s.matches(e.status))
            && self.path_prefix.is_none_or(|p| e.path.starts_with(p))
            && self.client_id.is_none_or(|c| e.client_id == Some(c))
    }
}

impl Inspector {
    /// Keeps the last `capacity` requests (0 turns the inspector off).
    pub fn new(capacity: usize) -> Inspector {
        Inspector {
            capacity,
            entries: Mutex::new(Entries {
                kept: VecDeque::with_capacity(capacity.min(MAX_LIMIT)),
                last: 0,
            }),
            feed: broadcast::channel(FEED_BUFFER).0,
        }
    }

    pub fn enabled(&self) -> bool {
        self.capacity > 0
    }

    /// Whether requests to `path` are recorded: not the inspector's own, nor the
    /// scrapes of `/metrics` and `/healthz`, which would crowd out everything else.
    /// The web console's page and assets (`/`, `/console/…`) are not recorded either: they
    /// are the inspector's own viewer.
    pub fn records(&self, path: &str) -> bool {
        self.enabled()
            && !path.starts_with("/api/v2/inspector/")
            && path != "/metrics"
            && path != "/healthz"
            && path != "/"
            && !path.starts_with("/console/")
    }

    /// Keeps `entry` as the newest, numbering it, and publishes it to stream subscribers.
    pub fn push(&self, mut entry: InspectedRequest) {
        if !self.enabled() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.kept.len() == self.capacity {
            entries.kept.pop_front();
        }
        entries.last += 1;
        entry.sequence = entries.last;
        let entry = Arc::new(entry);
        entries.kept.push_back(entry.clone());
        // Sent under the lock, so subscribers receive entries in sequence order. No
        // subscriber is not an error.
        let _ = self.feed.send(entry);
    }

    /// The most recent `limit` entries that pass `filter`, newest first.
    pub fn recent(&self, limit: usize, filter: &RequestFilter<'_>) -> Vec<InspectedRequest> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .kept
            .iter()
            .rev()
            .filter(|e| filter.admits(e))
            .take(limit)
            .map(|e| InspectedRequest::clone(e))
            .collect()
    }

    /// The kept entry of the request with this id.
    pub fn find(&self, request_id: &str) -> Option<InspectedRequest> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .kept
            .iter()
            .rev()
            .find(|e| e.request_id == request_id)
            .map(|e| InspectedRequest::clone(e))
    }

    /// The kept entries after `sequence`, oldest first, and the last sequence number
    /// assigned.
    pub fn after(&self, sequence: u64) -> (Vec<Arc<InspectedRequest>>, u64) {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let newer = entries
            .kept
            .iter()
            .filter(|e| e.sequence > sequence)
            .cloned()
            .collect();
        (newer, entries.last)
    }

    /// New entries, as they are pushed.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<InspectedRequest>> {
        self.feed.subscribe()
    }
}

/// Request headers as the inspector shows them: credentials replaced by `[redacted]`
/// (keeping the scheme of `Authorization`, which is often what is wrong).
pub fn redacted_headers(headers: &HeaderMap) -> Vec<InspectedHeader> {
    headers
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes());
            let value = if name == header::AUTHORIZATION || name == header::PROXY_AUTHORIZATION {
                match value.split_once(' ') {
                    Some((scheme, _)) => format!("{scheme} {REDACTED}"),
                    None => REDACTED.to_string(),
                }
            } else if name == header::COOKIE {
                REDACTED.to_string()
            } else {
                value.into_owned()
            };
            InspectedHeader {
                name: name.as_str().to_string(),
                value,
            }
        })
        .collect()
}

/// The captured body as text, with `client_secret` redacted from `/oauth/token` forms.
pub fn body_text(path: &str, body: &[u8]) -> String {
    if path == "/oauth/token" {
        let pairs = form_urlencoded::parse(body).map(|(k, v)| {
            let v = if k == "client_secret" {
                REDACTED.into()
            } else {
                v
            };
            (k, v)
        });
        return form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
    }
    String::from_utf8_lossy(body).into_owned()
}

/// What a [`TeeBody`] saw.
#[derive(Debug, Default)]
pub struct CapturedBody {
    pub bytes: Vec<u8>,
    pub total: u64,
}

/// A request body that keeps a copy of its first [`BODY_CAPTURE_BYTES`] bytes as the
/// handler reads it.
pub struct TeeBody {
    inner: Body,
    captured: Arc<Mutex<CapturedBody>>,
}

impl TeeBody {
    pub fn wrap(inner: Body) -> (Body, Arc<Mutex<CapturedBody>>) {
        let captured = Arc::new(Mutex::new(CapturedBody::default()));
        let body = Body::new(TeeBody {
            inner,
            captured: captured.clone(),
        });
        (body, captured)
    }
}

impl HttpBody for TeeBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled {
            if let Some(data) = frame.data_ref() {
                let mut captured = self.captured.lock().unwrap_or_else(|e| e.into_inner());
                captured.total += data.len() as u64;
                let room = BODY_CAPTURE_BYTES.saturating_sub(captured.bytes.len());
                captured
                    .bytes
                    .extend_from_slice(&data[..room.min(data.len())]);
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// What a status filter is, as the OpenAPI document states it: a status (`404`) or a
/// class (`4xx`, either case).
pub const STATUS_FILTER_PATTERN: &str = "^[1-5]([0-9]{2}|[xX]{2})$";

/// `?status=` of the inspector: an exact status (`404`) or a class (`4xx`).
#[derive(Debug, Clone, Copy)]
pub enum StatusFilter {
    Exact(u16),
    Class(u16),
}

impl StatusFilter {
    fn matches(self, status: u16) -> bool {
        match self {
            StatusFilter::Exact(s) => s == status,
            StatusFilter::Class(c) => status / 100 == c,
        }
    }
}

impl<'de> Deserialize<'de> for StatusFilter {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let bad = || {
            serde::de::Error::custom(format!(
                "`{s}` is not a status (404) or a status class (4xx)"
            ))
        };
        let lower = s.to_ascii_lowercase();
        if let Some(class) = lower.strip_suffix("xx") {
            match class.parse::<u16>() {
                Ok(c @ 1..=5) if class.len() == 1 => Ok(StatusFilter::Class(c)),
                _ => Err(bad()),
            }
        } else if s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()) {
            match s.parse::<u16>() {
                Ok(n @ 100..=599) => Ok(StatusFilter::Exact(n)),
                _ => Err(bad()),
            }
        } else {
            Err(bad())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The filters STATUS_FILTER_PATTERN allows are exactly those accepted.
    #[test]
    fn status_filters_have_the_documented_shape() {
        let parse = |s: &str| serde_json::from_value::<StatusFilter>(serde_json::json!(s));
        for ok in ["404", "100", "599", "4xx", "4XX", "5xX", "1xx"] {
            assert!(parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ok", "", "0404", "+404", "40", "4040", "600", "099", "6xx", "0xx", "4x", "44xx",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
