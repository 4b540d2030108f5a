//! `GET /api/v2/inspector/requests`: the recent requests the inspector keeps, and
//! `GET /api/v2/inspector/requests/stream`: each new one as it is recorded.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use tokio::sync::broadcast::{self, error::RecvError};
use utoipa::IntoParams;
use uuid::Uuid;
use wrapup_types::ErrorCode::*;
use wrapup_types::{ErrorCode, ErrorDetail, InspectedRequest, Page};

use super::{Inspector, RequestFilter, StatusFilter, MAX_LIMIT};
use crate::auth::{Admin, Authorized};
use crate::config::Config;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::openapi::errors::codes;
use crate::state::Observability;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InspectorQuery {
    /// How many requests to return, newest first: 1 to 1000, default 100.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// Only requests with this status (`404`) or status class (`4xx`).
    #[param(value_type = Option<String>, example = "4xx")]
    status: Option<StatusFilter>,
    /// Only requests whose path starts with this, e.g. `/api/v2/interactions`.
    path: Option<String>,
    /// Only requests authenticated as this OAuth client.
    client_id: Option<Uuid>,
}

/// Recent requests (the request inspector)
///
/// The most recent requests the server received (a ring buffer, 1000 by default, set with
/// `wrapup serve --inspector-capacity`), newest first: time, method, path, status,
/// latency, the request headers with credentials redacted, the request body cut at 16 KiB,
/// and the error body sent back. Requests to the inspector, `/metrics` and `/healthz` are
/// not recorded, nor the web console's page and assets. The list is not paginated: `limit`
/// bounds it. Each entry's `sequence` can be sent as `Last-Event-ID` to the request stream
/// to receive every request after it.
#[utoipa::path(get, path = "/api/v2/inspector/requests", operation_id = "listInspectedRequests", tag = "operations",
    params(InspectorQuery),
    responses((status = 200, description = "Recent requests, newest first; `nextCursor` is always null.", body = Page<InspectedRequest>)),
    security(("oauth2" = ["admin"])),
    extensions(("x-error-codes" = json!(codes(&[&[RequestQueryInvalid]])))))]
pub async fn list_requests(
    State(state): State<Arc<Observability>>,
    _admin: Authorized<Admin>,
    ApiQuery(query): ApiQuery<InspectorQuery>,
) -> Result<Json<Page<InspectedRequest>>, ApiError> {
    if let Some(limit) = query.limit {
        if !(1..=MAX_LIMIT as u32).contains(&limit) {
            return Err(ApiError::one(
                ErrorDetail::new(
                    ErrorCode::RequestQueryInvalid,
                    format!("limit must be from 1 to {MAX_LIMIT}; got {limit}."),
                )
                .field("limit")
                .hint("Leave limit out for the 100 most recent requests."),
            ));
        }
    }
    Ok(Json(Page {
        entities: state.inspector.recent(
            query.limit.unwrap_or(100) as usize,
            &RequestFilter {
                status: query.status,
                path_prefix: query.path.as_deref(),
                client_id: query.client_id,
            },
        ),
        next_cursor: None,
    }))
}

/// The state of one subscriber's request stream.
struct Follower {
    state: Arc<Observability>,
    live: broadcast::Receiver<Arc<InspectedRequest>>,
    /// The sequence number of the last entry sent.
    last: u64,
    ready: VecDeque<Arc<InspectedRequest>>,
}

impl Follower {
    fn catch_up(&mut self, inspector: &Inspector) {
        let (newer, _) = inspector.after(self.last);
        self.ready.extend(newer);
    }

    async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(entry) = self.ready.pop_front() {
                if entry.sequence <= self.last {
                    continue;
                }
                self.last = entry.sequence;
                return Some(
                    Event::default()
                        .id(entry.sequence.to_string())
                        .event("request")
                        .json_data(&*entry)
                        .expect("an inspected request serialises"),
                );
            }
            match self.live.recv().await {
                Ok(entry) if entry.sequence > self.last + 1 => {
                    let state = self.state.clone();
                    self.catch_up(&state.inspector);
                }
                Ok(entry) => self.ready.push_back(entry),
                Err(RecvError::Lagged(_)) => {
                    let state = self.state.clone();
                    self.catch_up(&state.inspector);
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }
}

/// Stream recent requests (server-sent events)
///
/// Every request the inspector records, as it is recorded: `event: request`, `id` its
/// `sequence`, `data` the entry as `GET /api/v2/inspector/requests` lists it. Without
/// `Last-Event-ID` the stream starts with the next request; with it, it first sends the kept
/// entries after that sequence number (those pushed out of the ring buffer are skipped).
/// A comment line (`: keep-alive`) is sent at least every 15 s. Filter on the client side.
#[utoipa::path(get, path = "/api/v2/inspector/requests/stream", operation_id = "streamInspectedRequests", tag = "operations",
    params(("Last-Event-ID" = Option<String>, Header, description = "Resume after this sequence number.")),
    responses((status = 200, description = "An endless stream of server-sent events.",
        content_type = "text/event-stream", body = String,
        example = "id: 42\nevent: request\ndata: {\"sequence\":42,\"method\":\"PUT\",\"status\":400,…}\n\n")),
    security(("oauth2" = ["admin"])),
    extensions(("x-error-codes" = json!(codes(&[])))))]
pub async fn stream(
    State(state): State<Arc<Observability>>,
    State(config): State<Arc<Config>>,
    _admin: Authorized<Admin>,
    headers: HeaderMap,
) -> Response {
    // Subscribe before reading where to start, so nothing recorded in between is missed.
    let live = state.inspector.subscribe();
    let (_, latest) = state.inspector.after(u64::MAX);
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|id| *id <= latest);
    let mut follower = Follower {
        state: state.clone(),
        live,
        last: resume.unwrap_or(latest),
        ready: VecDeque::new(),
    };
    if resume.is_some() {
        follower.catch_up(&state.inspector);
    }
    let keep_alive = config.keep_alive;
    let events = futures::stream::unfold(follower, |mut f| async move {
        f.next().await.map(|e| (Ok::<_, Infallible>(e), f))
    });
    Sse::new(events)
        .keep_alive(KeepAlive::new().interval(keep_alive).text("keep-alive"))
        .into_response()
}
