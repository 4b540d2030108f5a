//! `GET /api/v2/interactions/events`: the event stream (server-sent events).
//!
//! Each subscriber follows the store's in-process broadcast of committed events; nothing
//! polls the database per subscriber. The stored log serves two cases: resuming after
//! `Last-Event-ID`, and a subscriber that fell so far behind that the broadcast dropped
//! events for it (a slow reader never slows the writer or other subscribers: it lags, then
//! catches up from the log). The subscription is taken before the response head is sent,
//! so a client that has the head will see every event committed from then on. When the
//! server shuts down, each stream sends the events already committed and ends: the client
//! resumes with `Last-Event-ID` (docs/operations.md#shutdown).

use std::collections::{HashSet, VecDeque};
use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use tokio::sync::broadcast::{self, error::RecvError, error::TryRecvError};
use tokio::sync::watch;
use uuid::Uuid;
use wrapup_domain::Principal;
use wrapup_store::{EventRecord, Store};
use wrapup_types::ErrorCode::*;
use wrapup_types::{ErrorCode, ErrorDetail, EventKind, EventReset};

use crate::auth::{Authorized, InteractionView};
use crate::config::Config;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::openapi::errors::codes;
use crate::shutdown::Shutdown;
use crate::visible;

/// Events read from the log per query while catching up.
const LOG_PAGE: u32 = 500;
/// The most `divisionId` or `interactionId` values one subscription may name.
pub const MAX_FILTER_IDS: usize = 100;

/// Which events a subscriber gets.
#[derive(Debug, Clone)]
struct EventFilter {
    principal: Principal,
    divisions: Option<HashSet<Uuid>>,
    interactions: Option<HashSet<Uuid>>,
    kinds: Option<HashSet<EventKind>>,
}

impl EventFilter {
    fn admits(&self, event: &EventRecord) -> bool {
        self.principal.sees(event.division_id)
            && self.kinds.as_ref().is_none_or(|k| k.contains(&event.kind))
            && self
                .divisions
                .as_ref()
                .is_none_or(|d| d.contains(&event.division_id))
            && self
                .interactions
                .as_ref()
                .is_none_or(|i| i.contains(&event.interaction.id))
    }
}

fn query_error(field: &str, message: String) -> ApiError {
    ApiError::one(
        ErrorDetail::new(ErrorCode::RequestQueryInvalid, message)
            .field(field)
            .hint("Filter with ?divisionId=<uuid>, ?interactionId=<uuid> and ?type=<event type>, each repeatable."),
    )
}

/// The filters of a subscription's query string.
#[derive(Default)]
struct StreamQuery {
    divisions: Vec<Uuid>,
    interactions: Vec<Uuid>,
    kinds: Vec<EventKind>,
}

/// Parses `?divisionId=…&interactionId=…&type=…` (each repeatable, at most 100 values).
fn parse_query(uri: &Uri) -> Result<StreamQuery, ApiError> {
    let mut query = StreamQuery::default();
    for (key, value) in form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
        if key == "type" {
            let kind = EventKind::parse(&value).ok_or_else(|| {
                let known: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
                query_error(
                    "type",
                    format!("type must be one of {}; got \"{value}\".", known.join(", ")),
                )
            })?;
            if !query.kinds.contains(&kind) {
                query.kinds.push(kind);
            }
            continue;
        }
        let list = match key.as_ref() {
            "divisionId" => &mut query.divisions,
            "interactionId" => &mut query.interactions,
            other => {
                return Err(query_error(
                    other,
                    format!("The query string is not valid: unknown parameter `{other}`; expected `divisionId`, `interactionId` or `type`."),
                ))
            }
        };
        let id = Uuid::parse_str(&value)
            .map_err(|_| query_error(&key, format!("{key} must be a UUID; got \"{value}\".")))?;
        if list.len() == MAX_FILTER_IDS {
            return Err(query_error(
                &key,
                format!("At most {MAX_FILTER_IDS} {key} values may be given."),
            ));
        }
        list.push(id);
    }
    Ok(query)
}

/// Where a subscription starts.
enum StreamStart {
    /// After this sequence number.
    After(i64),
    /// The `Last-Event-ID` cannot be resumed from: send `reset`, then go on after `resume_from`.
    Reset(EventReset),
}

async fn start_point(
    store: &dyn Store,
    last_event_id: Option<&str>,
) -> Result<StreamStart, ApiError> {
    let bounds = store.event_bounds().await?;
    let Some(raw) = last_event_id else {
        return Ok(StreamStart::After(bounds.latest));
    };
    let reset = |reason: &str| {
        StreamStart::Reset(EventReset {
            reason: reason.to_string(),
            last_event_id: raw.to_string(),
            resume_from: bounds.latest,
        })
    };
    Ok(match raw.trim().parse::<i64>() {
        Ok(id) if id < 0 => reset("Last-Event-ID is not an event id this server issued."),
        Ok(id) if id < bounds.pruned_through => reset(
            "The events after Last-Event-ID have been pruned (events are kept at least 24 hours); re-read the interactions you follow.",
        ),
        Ok(id) if id > bounds.latest => {
            reset("Last-Event-ID is ahead of this server's event log (was the database replaced?); re-read the interactions you follow.")
        }
        Ok(id) => StreamStart::After(id),
        Err(_) => reset("Last-Event-ID is not an event id this server issued."),
    })
}

/// Keeps the SSE subscriber gauge right, however the stream ends.
struct SubscriberGauge(Arc<Metrics>);

impl SubscriberGauge {
    fn new(metrics: Arc<Metrics>) -> SubscriberGauge {
        metrics.sse_subscribers.inc();
        SubscriberGauge(metrics)
    }
}

impl Drop for SubscriberGauge {
    fn drop(&mut self) {
        self.0.sse_subscribers.dec();
    }
}

/// The state of one subscriber's stream.
struct Subscription {
    store: Arc<dyn Store>,
    live: broadcast::Receiver<Arc<EventRecord>>,
    filter: EventFilter,
    /// The last sequence number seen (sent or filtered out).
    last: i64,
    /// Whether events may be in the log that the broadcast will not deliver.
    catching_up: bool,
    /// The server's shutdown switch; once it is on, the stream ends after what was
    /// committed.
    shutdown: watch::Receiver<bool>,
    ready: VecDeque<Event>,
    _gauge: SubscriberGauge,
}

fn sse_event(event: &EventRecord) -> Event {
    Event::default()
        .id(event.seq.to_string())
        .event(event.kind.as_str())
        .json_data(&event.interaction)
        .expect("an interaction serialises")
}

impl Subscription {
    fn take(&mut self, event: &EventRecord) {
        if event.seq <= self.last {
            return;
        }
        self.last = event.seq;
        if self.filter.admits(event) {
            self.ready.push_back(sse_event(event));
        }
    }

    /// The next event to send, or `None` when the stream must end.
    async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(event) = self.ready.pop_front() {
                return Some(event);
            }
            if self.catching_up {
                match self.store.events_after(self.last, LOG_PAGE).await {
                    Ok(page) if page.is_empty() => self.catching_up = false,
                    Ok(page) => page.iter().for_each(|e| self.take(e)),
                    Err(e) => {
                        // The client reconnects with Last-Event-ID and loses nothing.
                        tracing::warn!(error = %e, "reading the event log failed; ending the stream");
                        return None;
                    }
                }
                continue;
            }
            if *self.shutdown.borrow() {
                // Shutting down: what is committed (and published) is sent, then the end.
                match self.live.try_recv() {
                    Ok(event) if event.seq > self.last + 1 => self.catching_up = true,
                    Ok(event) => self.take(&event),
                    Err(TryRecvError::Lagged(_)) => self.catching_up = true,
                    Err(TryRecvError::Empty | TryRecvError::Closed) => return None,
                }
                continue;
            }
            let received = tokio::select! {
                received = self.live.recv() => received,
                _ = self.shutdown.wait_for(|begun| *begun) => continue,
            };
            match received {
                // A gap means events committed that this subscriber has not seen (they
                // can reach the log before the broadcast): read them from the log.
                Ok(event) if event.seq > self.last + 1 => self.catching_up = true,
                Ok(event) => self.take(&event),
                Err(RecvError::Lagged(missed)) => {
                    tracing::debug!(missed, "slow event subscriber; catching up from the log");
                    self.catching_up = true;
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }
}

/// Stream interaction events (server-sent events)
///
/// Every change to an interaction the token can see, as it commits: `event` is
/// `interaction.created`, `interaction.state`, `interaction.finalized` or
/// `interaction.wrapup`, `id` a strictly increasing global sequence number, and `data` the
/// interaction after the change. Reconnect with `Last-Event-ID` to receive every event
/// after that id (events are kept at least 24 hours); when that id can no longer be
/// resumed from, the stream starts with `event: reset` (data: an `EventReset`), telling
/// the client to re-read state. Without `Last-Event-ID` the stream starts with the next
/// event. A comment line (`: keep-alive`) is sent at least every 15 s. Only events of
/// granted divisions are sent; `divisionId` and `interactionId` (each repeatable, up to
/// 100) and `type` (repeatable) narrow the stream further.
#[utoipa::path(get, path = "/api/v2/interactions/events", operation_id = "streamInteractionEvents", tag = "interactions",
    params(
        ("divisionId" = Option<Vec<Uuid>>, Query, description = "Only events of these divisions (repeatable); each must be granted to the token.", explode = true),
        ("interactionId" = Option<Vec<Uuid>>, Query, description = "Only events of these interactions (repeatable).", explode = true),
        ("type" = Option<Vec<EventKind>>, Query, description = "Only events of these types (repeatable), e.g. `interaction.state` and `interaction.finalized` to learn when interactions become ready for a wrap-up. Event ids stay global: the ids of the events left out are skipped.", explode = true),
        ("Last-Event-ID" = Option<String>, Header, description = "Resume after this event id."),
    ),
    responses((status = 200, description = "An endless stream of server-sent events.",
        content_type = "text/event-stream", body = String,
        example = "id: 42\nevent: interaction.finalized\ndata: {\"id\":\"0b6f…\",\"state\":\"closed\",\"finalized\":true,…}\n\n")),
    security(("oauth2" = ["interaction:view"])),
    extensions(("x-error-codes" = json!(codes(&[&[RequestQueryInvalid, DivisionNotFound]])))))]
pub async fn stream(
    State(store): State<Arc<dyn Store>>,
    State(shutdown): State<Arc<Shutdown>>,
    State(metrics): State<Arc<Metrics>>,
    State(config): State<Arc<Config>>,
    Authorized(principal, ..): Authorized<InteractionView>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let StreamQuery {
        divisions,
        interactions,
        kinds,
    } = parse_query(&uri)?;
    for division in &divisions {
        visible::granted_division(store.as_ref(), &principal, *division).await?;
    }
    // Subscribe before reading where to start, so nothing commits unseen in between.
    let live = store.subscribe();
    let last_event_id = headers
        .get("last-event-id")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let start = start_point(store.as_ref(), last_event_id.as_deref()).await?;
    let (last, reset) = match start {
        StreamStart::After(seq) => (seq, None),
        StreamStart::Reset(reset) => (reset.resume_from, Some(reset)),
    };
    let mut subscription = Subscription {
        store: store.clone(),
        live,
        filter: EventFilter {
            principal,
            divisions: (!divisions.is_empty()).then(|| divisions.into_iter().collect()),
            interactions: (!interactions.is_empty()).then(|| interactions.into_iter().collect()),
            kinds: (!kinds.is_empty()).then(|| kinds.into_iter().collect()),
        },
        last,
        catching_up: true,
        shutdown: shutdown.watch(),
        ready: VecDeque::new(),
        _gauge: SubscriberGauge::new(metrics),
    };
    if let Some(reset) = reset {
        subscription.ready.push_back(
            Event::default()
                .id(reset.resume_from.to_string())
                .event("reset")
                .json_data(&reset)
                .expect("a reset serialises"),
        );
    }
    let events = futures::stream::unfold(subscription, |mut s| async move {
        s.next().await.map(|e| (Ok::<_, Infallible>(e), s))
    });
    Ok(sse(events, config.keep_alive).into_response())
}

fn sse(
    events: impl Stream<Item = Result<Event, Infallible>> + Send + 'static,
    keep_alive: std::time::Duration,
) -> impl IntoResponse {
    Sse::new(events).keep_alive(KeepAlive::new().interval(keep_alive).text("keep-alive"))
}
