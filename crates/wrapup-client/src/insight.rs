//! The operations that look at many things at once or explain one: interaction counts,
//! recent wrap-up activity, the wrap-up dry run, a recent request's diagnosis and the
//! inspector's live request stream (what the web console uses).

use std::pin::Pin;

use eventsource_stream::{EventStreamError, Eventsource};
use futures::{Stream, StreamExt};
use reqwest::header::{ACCEPT, AUTHORIZATION};
use reqwest::Method;
use uuid::Uuid;
use wrapup_types::{
    InspectedRequest, InteractionCounts, RequestDiagnosis, WrapUpActivity, WrapUpValidation,
};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::response::{api_error, RawResponse};

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

/// An open request stream (`GET /api/v2/inspector/requests/stream`).
pub struct RequestStream {
    sse: SseEvents,
}

impl RequestStream {
    /// The next request recorded; `None` when the server closed the stream (reconnect
    /// with the last `sequence` received to lose nothing that is still kept).
    pub async fn next(&mut self) -> Option<Result<InspectedRequest>> {
        let event = match self.sse.next().await? {
            Ok(event) => event,
            Err(EventStreamError::Transport(e)) => return Some(Err(Error::Transport(e))),
            Err(e) => {
                return Some(Err(Error::Unexpected {
                    status: 200,
                    message: format!("the request stream is malformed: {e}"),
                }))
            }
        };
        Some(
            serde_json::from_str(&event.data).map_err(|e| Error::Unexpected {
                status: 200,
                message: format!("request {} has unexpected data: {e}", event.id),
            }),
        )
    }
}

impl Client {
    /// `GET /api/v2/interactions/counts`: interactions by state, per granted division.
    pub async fn interaction_counts(&self) -> Result<InteractionCounts> {
        self.call::<(), _>(Method::GET, "/api/v2/interactions/counts", None)
            .await
    }

    /// `GET /api/v2/interactions/wrap-up-activity`: wrap-ups accepted and refused lately.
    pub async fn wrapup_activity(&self) -> Result<WrapUpActivity> {
        self.call::<(), _>(Method::GET, "/api/v2/interactions/wrap-up-activity", None)
            .await
    }

    /// `POST /api/v2/interactions/{id}/wrap-up/validate`: what the PUT would answer to
    /// `body` now, and the body that would be accepted; nothing is applied.
    pub async fn validate_wrapup(
        &self,
        id: Uuid,
        body: &serde_json::Value,
    ) -> Result<WrapUpValidation> {
        self.call(
            Method::POST,
            &format!("/api/v2/interactions/{id}/wrap-up/validate"),
            Some(body),
        )
        .await
    }

    /// `GET /api/v2/inspector/requests/{requestId}/diagnosis` (admin).
    pub async fn diagnose_request(&self, request_id: &str) -> Result<RequestDiagnosis> {
        // Request ids are the server's UUIDs or a client's X-Request-Id: escape the rest.
        let id: String = request_id
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect();
        self.call::<(), _>(
            Method::GET,
            &format!("/api/v2/inspector/requests/{id}/diagnosis"),
            None,
        )
        .await
    }

    /// Opens the inspector's request stream (admin), after `after_sequence` when given.
    pub async fn inspector_stream(&self, after_sequence: Option<u64>) -> Result<RequestStream> {
        let mut request = self
            .stream_http
            .get(format!("{}/api/v2/inspector/requests/stream", self.base))
            .header(ACCEPT, "text/event-stream");
        if let Some(token) = self.bearer().await? {
            request = request.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        if let Some(after) = after_sequence {
            request = request.header("last-event-id", after.to_string());
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
        Ok(RequestStream {
            sse: Box::pin(response.bytes_stream().eventsource()),
        })
    }
}
