//! The event stream, `GET /api/v2/interactions/events`, as a typed stream.

use std::pin::Pin;

use eventsource_stream::{EventStreamError, Eventsource};
use futures::{Stream, StreamExt};
use reqwest::header::{ACCEPT, AUTHORIZATION};
use uuid::Uuid;
use wrapup_types::{EventKind, EventReset, Interaction};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::response::{api_error, RawResponse};

/// Which events to receive.
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    /// Only these divisions (each must be granted); empty for every granted division.
    pub divisions: Vec<Uuid>,
    /// Only these interactions; empty for all.
    pub interactions: Vec<Uuid>,
    /// Only events of these types; empty for all.
    pub kinds: Vec<EventKind>,
    /// Resume after this event id (`Last-Event-ID`).
    pub last_event_id: Option<String>,
}

/// One event of the stream.
// Events are handled one at a time as they arrive, never stored in bulk, so the size of the
// common variant costs nothing; boxing it would cost an allocation per event.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// An interaction changed; `interaction` is its state after the change.
    Interaction {
        id: i64,
        kind: EventKind,
        interaction: Interaction,
    },
    /// The stream could not resume from `Last-Event-ID`: re-read the state you follow.
    Reset(EventReset),
}

impl StreamEvent {
    /// The event's id (for `Last-Event-ID`).
    pub fn id(&self) -> i64 {
        match self {
            StreamEvent::Interaction { id, .. } => *id,
            StreamEvent::Reset(r) => r.resume_from,
        }
    }
}

/// The response body parsed into server-sent events, before they are typed.
type SseEvents = Pin<
    Box<
        dyn Stream<
                Item = std::result::Result<
                    eventsource_stream::Event,
                    EventStreamError<reqwest::Error>,
                >,
            > + Send,
    >,
>;

/// An open event stream. The connection is established (and the server subscribed) by
/// the time [`Client::events`] returns, so every event committed afterwards arrives.
pub struct EventStream {
    sse: SseEvents,
    last_event_id: Option<String>,
}

impl EventStream {
    /// The next event; `None` when the server closed the stream (reconnect with
    /// [`EventStream::last_event_id`] to lose nothing).
    pub async fn next(&mut self) -> Option<Result<StreamEvent>> {
        let event = match self.sse.next().await? {
            Ok(event) => event,
            Err(EventStreamError::Transport(e)) => return Some(Err(Error::Transport(e))),
            Err(e) => {
                return Some(Err(Error::Unexpected {
                    status: 200,
                    message: format!("the event stream is malformed: {e}"),
                }))
            }
        };
        if !event.id.is_empty() {
            self.last_event_id = Some(event.id.clone());
        }
        Some(parse(&event))
    }

    /// The id of the last event received (or the one resumed from).
    pub fn last_event_id(&self) -> Option<&str> {
        self.last_event_id.as_deref()
    }
}

fn parse(event: &eventsource_stream::Event) -> Result<StreamEvent> {
    let unexpected = |message: String| Error::Unexpected {
        status: 200,
        message,
    };
    if event.event == "reset" {
        return serde_json::from_str(&event.data)
            .map(StreamEvent::Reset)
            .map_err(|e| unexpected(format!("a reset event has unexpected data: {e}")));
    }
    let kind = EventKind::parse(&event.event)
        .ok_or_else(|| unexpected(format!("unknown event type `{}`", event.event)))?;
    let id = event
        .id
        .parse()
        .map_err(|_| unexpected(format!("event id `{}` is not a number", event.id)))?;
    let interaction = serde_json::from_str(&event.data)
        .map_err(|e| unexpected(format!("event {id} has unexpected data: {e}")))?;
    Ok(StreamEvent::Interaction {
        id,
        kind,
        interaction,
    })
}

impl Client {
    /// Opens the event stream (`GET /api/v2/interactions/events`).
    pub async fn events(&self, query: &EventQuery) -> Result<EventStream> {
        let mut params: Vec<(&str, String)> = Vec::new();
        params.extend(
            query
                .divisions
                .iter()
                .map(|d| ("divisionId", d.to_string())),
        );
        params.extend(
            query
                .interactions
                .iter()
                .map(|i| ("interactionId", i.to_string())),
        );
        params.extend(query.kinds.iter().map(|k| ("type", k.as_str().to_string())));
        let mut request = self
            .stream_http
            .get(format!("{}/api/v2/interactions/events", self.base))
            .query(&params)
            .header(ACCEPT, "text/event-stream");
        if let Some(token) = self.bearer().await? {
            request = request.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        if let Some(id) = &query.last_event_id {
            request = request.header("last-event-id", id);
        }
        let response = request.send().await?;
        if !response.status().is_success() {
            let raw = RawResponse {
                url: response.url().to_string(),
                status: response.status(),
                headers: response.headers().clone(),
                body: response.bytes().await?.to_vec(),
            };
            return Err(api_error(&raw));
        }
        Ok(EventStream {
            sse: Box::pin(response.bytes_stream().eventsource()),
            last_event_id: query.last_event_id.clone(),
        })
    }
}
